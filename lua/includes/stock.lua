--[[
  A sku's stock, one hash per sku: stock:{<sku>} = { available, reserved, sold, limit }.
    stocked = available + reserved + sold (the invariant every script keeps)
    limit   units one customer may have reserved or bought at once; 0 = no limit
  Per-customer units (reserved + sold): stock:{<sku>}:customers = { <customer> = units }.
  A reservation is stock's two-phase hold (includes/hold.lua): stock:{<sku>}:hold:<id> =
  { state, expiresAt, customer, quantity }; confirmed = posted, released = voided.
  Scripts on a reservation take KEYS[2] sku hash, KEYS[3] reservation hash, KEYS[4] customers hash.
]]
--- @include "hold"

local function loadStock(key)
  local s = redis.call('HMGET', key, 'available', 'reserved', 'sold', 'limit')
  if not s[1] then return nil, 'sku_not_found' end
  return { available = tonumber(s[1]), reserved = tonumber(s[2]), sold = tonumber(s[3]), limit = tonumber(s[4]) }
end

local function saveStock(key, s)
  redis.call('HSET', key, 'available', intString(s.available), 'reserved', intString(s.reserved),
    'sold', intString(s.sold))
end

-- Every stock command answers with available, reserved and sold, in that order.
local function stockDone(code, s)
  return txDone(code, s.available, s.reserved, s.sold)
end

-- A customer's units change (reserve: +, release or expire: -); a customer at 0 leaves the hash.
local function customerUnits(customer, delta)
  if redis.call('HINCRBY', KEYS[4], customer, intString(delta)) == 0 then redis.call('HDEL', KEYS[4], customer) end
end

-- A pending reservation's units go back to available (release, expire).
local function returnUnits(s, h)
  local quantity = tonumber(h.quantity)
  s.available = s.available + quantity
  s.reserved = s.reserved - quantity
  customerUnits(h.customer, -quantity)
  saveStock(KEYS[2], s)
end

-- Confirm, release and expire (includes/hold.lua holdCommand).
local stockReservations = { noun = 'reservation', load = loadStock, release = returnUnits, done = stockDone }
