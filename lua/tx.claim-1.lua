--[[
  tx.claim: ingest-api claims a transaction id before publishing it (Idempotency-Key semantics).
    KEYS[1] status record tx:{<id>} (common/status.ts)
    ARGV[1] payload digest    ARGV[2] now, epoch ms    ARGV[3] in-flight window ms    ARGV[4] retention ms
  Returns one of
    claimed    the caller publishes, then marks it accepted (or releases the claim when publishing fails)
    accepted   published before (or already decided): answer as before, publish nothing
    inflight   another request with this id is being published right now (409)
    mismatch   this id was used with another payload (422)
  An in-flight claim older than the window is taken over: its ingest-api died before it could answer.
]]
local key = KEYS[1]
local cur = redis.call('HMGET', key, 'digest', 'state', 'until', 'status')
if cur[1] and cur[1] ~= ARGV[1] then return 'mismatch' end
if cur[2] == 'accepted' or cur[4] then return 'accepted' end
local now = tonumber(ARGV[2])
if cur[2] == 'inflight' and tonumber(cur[3]) > now then return 'inflight' end
redis.call('HSET', key, 'digest', ARGV[1], 'state', 'inflight', 'until', string.format('%.0f', now + tonumber(ARGV[3])))
redis.call('PEXPIRE', key, ARGV[4])
return 'claimed'
