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

-- Confirm, release and expire: the sku and its reservation. `pending` is holdPending or holdDue.
-- Returns s, reservation, nil when it is pending; otherwise s (or nil), nil and the rejection code, after
-- returning its units when it was found past its ttl.
local function skuReservation(pending)
  local s, err = loadStock(KEYS[2])
  if not s then return nil, nil, err end
  local h, code = pending(KEYS[3], 'reservation')
  if h and code then
    returnUnits(s, h)
    holdResolve(KEYS[3], 'expired')
  end
  if code then return s, nil, code end
  return s, h, nil
end

-- The reply of a confirm, release or expire that did not proceed.
local function skuReservationRefused(s, code)
  if code == 'not_due' then return { code, 1 } end
  if s then return stockDone(code, s) end
  return txDone(code)
end
