--[[
  A sku's stock, one hash per sku: stock:{<sku>} = { available, reserved, sold, limit }.
    stocked = available + reserved + sold (the invariant every script keeps)
    limit   units one customer may have reserved or bought at once; 0 = no limit
  Per-customer units (reserved + sold): stock:{<sku>}:customers = { <customer> = units }.
  A reservation is stock's two-phase hold (includes/hold.lua): stock:{<sku>}:hold:<id> =
  { state, expiresAt, customer, quantity }; confirmed = posted, released = voided.
  The functions here take their keys as arguments; the scripts pass them from their KEYS.
]]
--- @include "hold"

local function loadStock(key)
  local s = redis.call('HMGET', key, 'available', 'reserved', 'sold', 'limit')
  if not s[1] then return nil, 'sku_not_found' end
  local a, r, sold = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
  -- a0, r0, s0: the counts before this command, for its history entry's changes.
  return { available = a, reserved = r, sold = sold, limit = tonumber(s[4]), a0 = a, r0 = r, s0 = sold }
end

local function saveStock(key, s)
  redis.call('HSET', key, 'available', intString(s.available), 'reserved', intString(s.reserved),
    'sold', intString(s.sold))
end

-- Every stock command answers with available, reserved and sold, in that order (0s for a missing sku);
-- a change is recorded in the history: the counts after it, then how much each moved.
local function stockDone(code, s)
  if not s then return txDone(code, 0, 0, 0) end
  if code == 'ok' or txChanged then
    txRecord(s.available, s.reserved, s.sold, s.available - s.a0, s.reserved - s.r0, s.sold - s.s0)
  end
  return txDone(code, s.available, s.reserved, s.sold)
end

-- A customer's units change (reserve: +, release or expire: -); a customer at 0 leaves the hash.
local function customerUnits(customersKey, customer, delta)
  if redis.call('HINCRBY', customersKey, customer, intString(delta)) == 0 then redis.call('HDEL', customersKey, customer) end
end

-- Confirm, release and expire (includes/hold.lua holdCommand) on the sku at skuKey.
local function stockReservations(skuKey, customersKey)
  return {
    noun = 'reservation',
    load = function() return loadStock(skuKey) end,
    -- A pending reservation's units go back to available (release, expire).
    release = function(s, h)
      local quantity = tonumber(h.quantity)
      s.available = s.available + quantity
      s.reserved = s.reserved - quantity
      customerUnits(customersKey, h.customer, -quantity)
      saveStock(skuKey, s)
    end,
    done = stockDone,
  }
end
