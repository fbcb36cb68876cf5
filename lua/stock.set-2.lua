--[[
  stock.set: create a sku, or set its total stock (available + reserved + sold) and per-customer limit.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    ARGV[1..3] digest, retention ms, now      ARGV[4] quantity: the total stock
    ARGV[5] per-customer limit (0 = none; '' = unchanged, none for a new sku)
  Returns { code, fresh, available, reserved, sold }
    ok | quantity_below_committed (fewer than reserved + sold) | conflict
  A lower limit keeps the reservations and sales already made: a customer above it is refused new
  reserves (stock.reserve) until under it again.
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
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[2], 'limit', ARGV[5])
elseif not s.limit then
  redis.call('HSET', KEYS[2], 'limit', 0)
end
return stockDone('ok', s)
