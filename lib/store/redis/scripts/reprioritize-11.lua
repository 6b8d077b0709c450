-- Changes priority, sortKey and explanation of a task that has not started.
-- ARGV: prefix, id, priority, sortKey, explanation JSON.
-- Replies the task's fields or "NOT_FOUND" / "CONFLICT <state>".
--- @include "task"

local id, priority, sortKey, explanation = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local t = readTask(id)
if not t then return redis.error_reply('NOT_FOUND') end
if not NOT_STARTED[t.st] then return redis.error_reply('CONFLICT ' .. t.st) end

local key = taskKey(id)
redis.call('HSET', key, 'pr', priority, 'sk', sortKey, 'x', explanation)
if t.st == 'queued' then redis.call('ZADD', queueKey(t.q), sortKey, id) end
return redis.call('HGETALL', key)
