--[[
  watermark.advance: records how far the processor has applied a partition, on the Redis node that holds
  the partition's writes and after them on the same connection. Redis keeps a prefix of its writes when it
  loses some (an unsynced AOF tail, a replica promoted while behind, an older snapshot restored), so a
  surviving watermark proves that everything written before it survived; a watermark behind what the
  processor wrote shows what was lost (processor/positions.ts).
    KEYS[1] watermark hash watermarks:{<tag>} (common/keys.ts)
    ARGV[1] field <topic>/<partition>
    ARGV[2] the offset the watermark must hold now ('' = none yet): the offset before the batch's first
    ARGV[3] the batch's last offset
  Returns { 1, previous } when the watermark moved from ARGV[2] to ARGV[3]; { 0, current } (current '' =
  none) and nothing written when it held something else: Redis lost writes, or another processor moved it.
]]
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return { 0, current } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return { 1, current }
