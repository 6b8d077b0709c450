-- Marks a running task succeeded when the caller still holds its lease (fence).
-- ARGV: prefix, id, fence, result JSON ("" = null), now.
-- Replies { fields, { id, from, fields } of each released dependent, ... } or
-- the error "LEASE_LOST".
--- @include "task"

local id, fence, result, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = taskKey(id)
local f = redis.call('HMGET', key, 'st', 'f', 'q', 'k', 'hd')
if f[1] ~= 'running' or f[2] ~= fence then return redis.error_reply('LEASE_LOST') end

if result ~= '' then
  redis.call('HSET', key, 'st', 'succeeded', 'p', 1, 'fa', now, 'r', result)
  redis.call('ZADD', K_RESULTS, now, id)
else
  redis.call('HSET', key, 'st', 'succeeded', 'p', 1, 'fa', now)
end
redis.call('HDEL', key, 'lu')
redis.call('ZREM', K_RUNNING, id)
redis.call('ZADD', K_FINISHED, now, id)
bump(f[3], 'running', 'succeeded')
releaseKey(id, f[4])

local transitions = {}
if f[5] then releaseDependents(id, now, transitions) end
return reply(id, transitions)
