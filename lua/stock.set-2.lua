--[[
  stock.set: create a sku, or set its total stock (available + reserved + sold) and per-customer limit.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] quantity: the total stock    ARGV[5] limit (0 = none)
  Returns { code, fresh, available, reserved, sold }
    ok | quantity_below_committed (fewer than reserved + sold) | conflict
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s = loadStock(KEYS[2]) or { available = 0, reserved = 0, sold = 0 }
local quantity = tonumber(ARGV[4])
local committed = s.reserved + s.sold
if quantity < committed then return stockDone('quantity_below_committed', s) end
s.available = quantity - committed
saveStock(KEYS[2], s)
redis.call('HSET', KEYS[2], 'limit', ARGV[5])
return stockDone('ok', s)
