--[[
  ratelimit.take: ingest-api takes `cost` tokens from a producer key's token bucket, shared by every
  ingest-api instance. The bucket refills lazily: each call adds what the time since the last one earned.
    KEYS[1] the bucket ratelimit:{<producer>}:<key id> (common/keys.ts), a hash: tokens, at (ms)
    ARGV[1] rate, tokens per second    ARGV[2] burst, the bucket's size    ARGV[3] cost (a batch: its items)
  Returns {code, remaining, wait}
    ok       taken; remaining: whole tokens left; wait 0
    limited  nothing taken, nothing written; remaining: whole tokens there; wait: ms until `cost` tokens are
             there, or -1 when cost is over the burst (never)
  Unlike the processor's scripts this one reads the server clock (TIME): a rate is about now, not about the
  log, and Redis's clock is the one clock every ingest-api shares. Scripts replicate by effects (Redis 7).
]]
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(cur[1]), tonumber(cur[2])
if not tokens or not at then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
if cost > burst then return {'limited', math.floor(tokens), -1} end
if tokens < cost then return {'limited', math.floor(tokens), math.ceil((cost - tokens) * 1000 / rate)} end
tokens = tokens - cost
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.0f', now))
-- Gone once it would be full again: an idle producer costs no memory.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {'ok', math.floor(tokens), 0}
