--[[
  stock.set: create a sku, or set its total stock (available + reserved + sold) and per-customer limit.
    KEYS[1] flag key (see includes/tx.lua)    KEYS[2] sku hash stock:{<sku>}
    ARGV[1..4] digest, retention ms, now, entry      ARGV[5] quantity: the total stock
    ARGV[6] per-customer limit (0 = none; '' = unchanged, none for a new sku)
    KEYS[3] history stock:{<entity>}:entries (includes/tx.lua txRecord)
  Returns { code, fresh, available, reserved, sold }
    ok | quantity_below_committed (fewer than reserved + sold) | conflict
  A lower limit keeps the reservations and sales already made: a customer above it is refused new
  reserves (stock.reserve) until under it again.
]]
--- @include "stock"

local seen = txSeen()
if seen then return seen end

local s = loadStock(KEYS[2]) or { available = 0, reserved = 0, sold = 0, a0 = 0, r0 = 0, s0 = 0 }
local quantity = tonumber(ARGV[5])
local committed = s.reserved + s.sold
if quantity < committed then return stockDone('quantity_below_committed', s) end
s.available = quantity - committed
saveStock(KEYS[2], s)
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[2], 'limit', ARGV[6])
elseif not s.limit then
  redis.call('HSET', KEYS[2], 'limit', 0)
end
return stockDone('ok', s)
