--[[
  stock.reserve: reserve units for a customer for ttl ms, within available and the per-customer limit.
  The reservation's id is the transaction's; it ends confirmed, released or expired (includes/hold.lua).
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    KEYS[3] reservation hash stock:{<sku>}:hold:<id>    KEYS[4] customers hash stock:{<sku>}:customers
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] quantity    ARGV[6] customer    ARGV[7] ttl ms
    KEYS[5] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | sku_not_found | customer_limit_exceeded | insufficient_stock | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s, err = loadStock(KEYS[2])
if not s then return stockDone(err, nil) end
local quantity, customer = tonumber(ARGV[5]), ARGV[6]
if s.limit > 0 and tonumber(redis.call('HGET', KEYS[4], customer) or '0') + quantity > s.limit then
  return stockDone('customer_limit_exceeded', s)
end
if s.available < quantity then return stockDone('insufficient_stock', s) end
s.available = s.available - quantity
s.reserved = s.reserved + quantity
saveStock(KEYS[2], s)
customerUnits(KEYS[4], customer, quantity)
holdOpen(KEYS[3], ARGV[7], { 'customer', customer, 'quantity', ARGV[5] })
return stockDone('ok', s)
