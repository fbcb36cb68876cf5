--[[
  The idempotency flag: check, apply and mark in one script.
  Every command script follows the same convention:
    KEYS[1]  the flag key   <domain>:{<entity>}:tx:<id>[/<step>...]  (common/keys.ts flagKey: '/' is no id
             character, so a client's id never names a step's flag)
    ARGV[1]  payload digest (the same id with another payload is a conflict)
    ARGV[2]  '<flag retention ms> <history retention ms>': how long the flag (and a hold record) and the
             history's entries live; one number: both
    ARGV[3]  now, epoch ms: the message's time; scripts never read the server clock, so replays agree
    ARGV[4]  '<offset> <transaction id> <type>': the message's Kafka offset and what it is, for the history
    KEYS[#KEYS]  the entity's history <domain>:{<entity>}:entries (common/keys.ts entriesKey), last
  and returns { code, fresh, n1, n2, ... }: code 'ok' or a rejection code, fresh 1 when this call decided
  the outcome and 0 when it is the stored outcome of an earlier delivery, then the script's integers
  (all of them, a rejection too: the entity's numbers as they are, 0 for an entity that does not exist;
  only 'conflict' and 'not_due' carry none).
]]
local txFlagKey = KEYS[1]
local txDigest = ARGV[1]
local txRetentionMs, txHistoryMs = string.match(ARGV[2], '^(%d+) ?(%d*)$')
if txHistoryMs == '' then txHistoryMs = txRetentionMs end
local txNow = tonumber(ARGV[3])
local txOffset, txId, txType = string.match(ARGV[4], '^(%d+) (%S+) (%S+)$')
local txEntriesKey = KEYS[#KEYS]
-- Set when a command changed the entity on its way to a rejection (a hold found past its ttl and
-- expired): its history records that change too.
local txChanged = false

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

--[[
  Records this transaction's change in the entity's history, in the same script as the change: a sorted
  set scored by the message's offset (an entity's messages share one partition, so offsets order them),
  member '<time>-<offset> <id> <type> <v1> <v2> ...' with the domain's values after the change. Time and
  offset come from the message, so a replay of the log writes the same entries. Entries whose message
  time is older than the history retention are trimmed, a few per write; the set expires that long after
  the entity's last change.
]]
local function txRecord(...)
  local values = { ... }
  local parts = { intString(txNow) .. '-' .. txOffset, txId, txType }
  for i = 1, #values do
    local v = values[i]
    parts[#parts + 1] = type(v) == 'number' and intString(v) or v
  end
  redis.call('ZADD', txEntriesKey, txOffset, table.concat(parts, ' '))
  local horizon = txNow - tonumber(txHistoryMs)
  for _, e in ipairs(redis.call('ZRANGE', txEntriesKey, 0, 9)) do
    if tonumber(string.match(e, '^(%d+)-')) >= horizon then break end
    redis.call('ZREM', txEntriesKey, e)
  end
  redis.call('PEXPIRE', txEntriesKey, txHistoryMs)
end
