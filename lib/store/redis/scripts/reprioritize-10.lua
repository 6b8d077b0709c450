-- Changes priority, sortKey and explanation of a task that has not started.
-- ARGV: prefix, id, sortKey, m ({ priority, sortKey, explanation } as JSON).
-- Replies the task's fields or "NOT_FOUND" / "CONFLICT <state>".
--- @include "task"

local id, sortKey, m = ARGV[2], ARGV[3], ARGV[4]
local M = loadMoves()
local t = M.readTask(id)
if not t then return redis.error_reply('NOT_FOUND') end
if not M.isNotStarted(t.st) then return redis.error_reply('CONFLICT ' .. t.st) end

redis.call('HSET', taskKey(id), 'sk', sortKey, 'm', m)
if t.st == 'queued' then redis.call('ZADD', queueKey(t.q), sortKey, id) end
return taskFields(id)
