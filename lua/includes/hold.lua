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
-- comes back with the code <noun>_expired: holdCommand releases what it reserved, resolves it 'expired'
-- and rejects with that code.
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

-- For expire commands: the hold when it is pending and due (the message time is at or past its expiry),
-- else nil and 'not_due' (not a decision, so no flag: a later expire must still apply) or the code of the
-- state it already has.
local function holdDue(key, noun)
  local h, err = holdPending(key, noun)
  if not h then return nil, err end
  if err then return h, nil end
  return nil, 'not_due'
end

--[[
  The commands on a hold (capture/confirm, void/release, expire) share one opening. `d` describes the
  domain, built by the domain's include from the script's keys: d.noun ('hold', 'reservation');
  d.load() the entity or nil and a code; d.release(entity, hold) gives back what the hold reserved;
  d.done(code, entity) the domain's reply. `find` is holdPending (client commands) or holdDue (expire),
  `holdKey` the hold's hash. Returns entity, hold when the command may go on; otherwise nil, nil and the
  reply to return, after expiring the hold if it was found past its ttl.
]]
local function holdCommand(d, find, holdKey)
  local e, err = d.load()
  if not e then return nil, nil, d.done(err, nil) end
  local h, code = find(holdKey, d.noun)
  if h and code then
    d.release(e, h)
    holdResolve(holdKey, 'expired')
    txChanged = true
  end
  if code == 'not_due' then return nil, nil, { code, 1 } end
  if code then return nil, nil, d.done(code, e) end
  return e, h, nil
end

-- Void/release (find = holdPending) and expire (find = holdDue): give back what the hold reserved and
-- resolve it as `state`. The reply is d.done('ok', entity, hold).
local function holdRelease(d, find, holdKey, state)
  local e, h, reply = holdCommand(d, find, holdKey)
  if reply then return reply end
  d.release(e, h)
  holdResolve(holdKey, state)
  return d.done('ok', e, h)
end
