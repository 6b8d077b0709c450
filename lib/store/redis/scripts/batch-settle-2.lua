-- Marks a batch completed when none of its tasks is live and it is not
-- marked yet: of concurrent calls exactly one marks it. KEYS: bh:<id>,
-- bm:<id> (as batch-read-2.lua). ARGV: prefix, now, the batch id (moved
-- from bo, the open batches, to bd, the announced ones).
-- Replies what batch-read-2.lua replies when this call marked it, else nil.
-- It stops at the first live task, so a call early in a batch's life is cheap.
local head = redis.call('HMGET', KEYS[1], 'ca', 'pa', 'co')
if not head[1] or head[3] then return nil end
local out = { head[1], head[2] or '', ARGV[2], '' }
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local f = redis.call('HMGET', ARGV[1] .. 't:' .. id, 'st', 'p')
  local st = f[1]
  if st then
    if st == 'waiting' or st == 'scheduled' or st == 'queued' or st == 'running' or st == 'retrying' then
      return nil
    end
    out[#out + 1] = st
    out[#out + 1] = f[2] or '0'
  end
end
redis.call('HSET', KEYS[1], 'co', ARGV[2])
redis.call('ZREM', ARGV[1] .. 'bo', ARGV[3])
redis.call('ZADD', ARGV[1] .. 'bd', ARGV[2], ARGV[3])
return out
