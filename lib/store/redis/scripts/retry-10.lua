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

local to = 'queued'
if not M.dependenciesSucceeded(id) then to = 'waiting' end
M.unindex(id, t.st, t.q)
redis.call('HSET', taskKey(id), 'st', to, 'a', 0, 'p', 0, 'pm', 'null', 'ea', now, 'e', '', 'r', '',
  'fa', '', 'sa', '', 'ra', '', 'w', '', 'lu', '')
if to == 'queued' then redis.call('ZADD', queueKey(t.q), t.sk, id) end
M.indexNotStarted(id, t, true)
bump(t.q, t.st, to)
-- Take the key back unless another live task holds it now.
if t.k then
  local holder = redis.call('HGET', K_LIVE, t.k)
  if not holder or not M.isLive(redis.call('HGET', taskKey(holder), 'st')) then
    redis.call('HSET', K_LIVE, t.k, id)
  end
end
return taskFields(id)
