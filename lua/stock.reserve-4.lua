--[[
  stock.reserve: reserve units for a customer for ttl ms, within available and the per-customer limit.
  The reservation's id is the transaction's; it ends confirmed, released or expired (includes/hold.lua).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    KEYS[3] reservation hash stock:{<sku>}:hold:<id>    KEYS[4] customers hash stock:{<sku>}:customers
    ARGV[1..3] digest, retention ms, now      ARGV[4] quantity    ARGV[5] customer    ARGV[6] ttl ms
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | customer_limit_exceeded | insufficient_stock | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s, err = loadStock(KEYS[2])
if not s then return txDone(err) end
local quantity, customer = tonumber(ARGV[4]), ARGV[5]
if s.limit > 0 and tonumber(redis.call('HGET', KEYS[4], customer) or '0') + quantity > s.limit then
  return stockDone('customer_limit_exceeded', s)
end
if s.available < quantity then return stockDone('insufficient_stock', s) end
s.available = s.available - quantity
s.reserved = s.reserved + quantity
saveStock(KEYS[2], s)
customerUnits(KEYS[4], customer, quantity)
holdOpen(KEYS[3], ARGV[6], { 'customer', customer, 'quantity', ARGV[4] })
return stockDone('ok', s)
