--[[
  The idempotency flag: check, apply and mark in one script.
  Every command script follows the same convention:
    KEYS[1]  the flag key   <domain>:{<entity>}:tx:<id>[/<step>...]  (common/keys.ts flagKey: '/' is no id
             character, so a client's id never names a step's flag)
    ARGV[1]  payload digest (the same id with another payload is a conflict)
    ARGV[2]  flag retention in ms
    ARGV[3]  now, epoch ms: the message's time; scripts never read the server clock, so replays agree
  and returns { code, fresh, n1, n2, ... }: code 'ok' or a rejection code, fresh 1 when this call decided
  the outcome and 0 when it is the stored outcome of an earlier delivery, then the script's integers.
]]
local txFlagKey = KEYS[1]
local txDigest = ARGV[1]
local txRetentionMs = ARGV[2]
local txNow = tonumber(ARGV[3])

--- @include "int"

-- The stored outcome of an earlier delivery of this id, or nil when it is new.
local function txSeen()
  local stored = redis.call('GET', txFlagKey)
  if not stored then return nil end
  local parts = {}
  for p in string.gmatch(stored, '%S+') do parts[#parts + 1] = p end
  if parts[1] ~= txDigest then return { 'conflict', 1 } end
  local out = { parts[2], 0 }
  for i = 3, #parts do out[#out + 1] = tonumber(parts[i]) end
  return out
end

-- Mark the id as decided (applied or rejected: a rejection is an outcome too, and a redelivery must
-- repeat it even if the state has changed since) and return the outcome.
local function txDone(code, ...)
  local values = { ... }
  local stored = { txDigest, code }
  local out = { code, 1 }
  for i = 1, #values do
    stored[#stored + 1] = intString(values[i])
    out[#out + 1] = values[i]
  end
  redis.call('SET', txFlagKey, table.concat(stored, ' '), 'PX', txRetentionMs)
  return out
end
