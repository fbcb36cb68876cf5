--[[
  The two-phase hold, TigerBeetle's pending transfer reused by every domain: a wallet hold, a stock
  reservation and a seat hold are each a hash inside the entity's hash tag,
    <domain>:{<entity>}:hold:<id> = { state, expiresAt, ...what the domain reserved }
  whose state moves once, from pending to one of
    posted   wallet 'captured', stock and seats 'confirmed'
    voided   wallet 'voided', stock and seats 'released'
    expired  'expired' (an expire command from the sweeper, or any command that finds it past its ttl)
  A rejection names the noun and the state: hold_captured, reservation_released, hold_expired, ...
  Expiry is decided by message time (txNow), never the server clock, so a replay decides alike.
]]
--- @include "tx"

-- Opens a pending hold; `fields` is a flat list of the domain's own field/value pairs.
local function holdOpen(key, ttl, fields)
  redis.call('HSET', key, 'state', 'pending', 'expiresAt', intString(txNow + tonumber(ttl)), unpack(fields))
end

-- The hold's fields when it is pending, else nil and the rejection code. A pending hold past its expiry
-- comes back with the code <noun>_expired: the caller releases what it reserved, calls holdResolve(key,
-- 'expired') and rejects with that code.
local function holdPending(key, noun)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, noun .. '_not_found' end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  if h.state ~= 'pending' then return nil, noun .. '_' .. h.state end
  if txNow >= tonumber(h.expiresAt) then return h, noun .. '_expired' end
  return h, nil
end

-- The hold's final state; the record stays as long as the idempotency flags, so a late second capture
-- or confirm still gets the precise code instead of not_found.
local function holdResolve(key, state)
  redis.call('HSET', key, 'state', state)
  redis.call('PEXPIRE', key, txRetentionMs)
end

-- For expire commands: nil, 'not_due' while the message time is before the hold's expiry. Not a decision,
-- so no flag is written: a later expire of the same hold must still be able to apply.
local function holdDue(key, noun)
  local h, err = holdPending(key, noun)
  if h and not err then return nil, 'not_due' end
  return h, err
end
