--[[
  tx.claim: ingest-api claims a transaction id before publishing it (Idempotency-Key semantics).
    KEYS[1] status record tx:{<id>} (common/status.ts: d digest, c claim, o outcome)
    ARGV[1] payload digest    ARGV[2] now, epoch ms    ARGV[3] in-flight window ms    ARGV[4] idempotency window ms
  Returns one of
    claimed    the caller publishes, then marks it accepted (c = 'a') or releases the claim (deletes c) when
               publishing fails
    accepted   published before (or already decided): answer as before, publish nothing
    inflight   another request with this id is being published right now (409)
    mismatch   this id was used with another payload (422)
  An in-flight claim older than the window is taken over: its ingest-api died before it could answer.
  Records of the layout before (digest, state, until, status) are read too, and a claim taken over on one
  moves it to the current fields.
]]
local key = KEYS[1]
local cur = redis.call('HMGET', key, 'd', 'c', 'o', 'digest', 'state', 'until', 'status')
local digest = cur[1] or cur[4]
if digest and digest ~= ARGV[1] then return 'mismatch' end
if cur[2] == 'a' or cur[3] or cur[5] == 'accepted' or cur[7] then return 'accepted' end
local now = tonumber(ARGV[2])
local inflightUntil = cur[2] or (cur[5] == 'inflight' and cur[6])
if inflightUntil and tonumber(inflightUntil) > now then return 'inflight' end
if cur[4] then redis.call('HDEL', key, 'digest', 'state', 'until') end
redis.call('HSET', key, 'd', ARGV[1], 'c', string.format('%.0f', now + tonumber(ARGV[3])))
redis.call('PEXPIRE', key, ARGV[4])
return 'claimed'
