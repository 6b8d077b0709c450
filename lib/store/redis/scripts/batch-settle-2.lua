-- Marks a batch completed when none of its tasks is live and it is not
-- marked yet: of concurrent calls exactly one marks it. KEYS: bh:<id>,
-- bm:<id> (as batch-read-2.lua). ARGV: prefix, now, the batch id (moved
-- from bo, the open batches, to bd, the announced ones), "1" to read every
-- task even when the live count says some are live (the clean-up's check).
-- Replies what batch-read-2.lua replies when this call marked it, else nil.
-- While its live count (lv, kept by the scripts that end and retry tasks)
-- is above 0 a call reads that field alone, so the calls made as each task
-- of a batch ends cost O(1), and only the call that finds lv at 0 reads its
-- tasks, to confirm it. Any task found live then sets lv to the true count
-- (a count that went wrong, e.g. a task ended by an older version's script,
-- mends itself). A batch without lv (made before it was kept) is read task by
-- task, stopping at the first live one.
local head = redis.call('HMGET', KEYS[1], 'ca', 'pa', 'co', 'lv')
if not head[1] or head[3] then return nil end
local lv = tonumber(head[4] or '')
local full = ARGV[4] == '1'
if lv and lv > 0 and not full then return nil end
local out = { head[1], head[2] or '', ARGV[2], '' }
local live = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local f = redis.call('HMGET', ARGV[1] .. 't:' .. id, 'st', 'p')
  local st = f[1]
  if st then
    if st == 'waiting' or st == 'scheduled' or st == 'queued' or st == 'running' or st == 'retrying' then
      if not lv and not full then return nil end
      live = live + 1
    else
      out[#out + 1] = st
      out[#out + 1] = f[2] or '0'
    end
  end
end
if lv and lv ~= live then redis.call('HSET', KEYS[1], 'lv', string.format('%d', live)) end
if live > 0 then return nil end
redis.call('HSET', KEYS[1], 'co', ARGV[2])
redis.call('ZREM', ARGV[1] .. 'bo', ARGV[3])
redis.call('ZADD', ARGV[1] .. 'bd', ARGV[2], ARGV[3])
return out
