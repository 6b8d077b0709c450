-- Puts a failed, dead, cancelled or expired task back: queued, or waiting while
-- some dependency has not succeeded; fresh attempts, sortKey unchanged.
-- ARGV: prefix, id, now. Replies the task's fields or "NOT_FOUND" /
-- "CONFLICT <state>".
--- @include "task"

local id, now = ARGV[2], ARGV[3]
local M = loadMoves()
local t = M.readTask(id)
if not t then return redis.error_reply('NOT_FOUND') end
if not M.isBadEnd(t.st) then return redis.error_reply('CONFLICT ' .. t.st) end

M.retry(id, t, now)
return taskFields(id)
