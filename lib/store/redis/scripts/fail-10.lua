-- Records a failed attempt when the caller still holds the lease (fence).
-- ARGV: prefix, id, fence, error JSON, retryAt ("" = no retry), end state
-- ("failed" or "dead", used without retryAt), now.
-- Replies { fields, { id, from, fields } of each failed dependent, ... } or
-- the error "LEASE_LOST".
--- @include "task"

local id, fence, err, retryAt, endState, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local M = loadMoves()
local t = M.readTask(id)
local f = redis.call('HMGET', taskKey(id), 'f', 'ra', 'e', 'fa')
-- The very same call again (ioredis resends a command whose reply a dropped
-- connection lost) finds its own outcome and gets it back, without dependents.
if t and f[1] == fence and f[3] == err and (
  (retryAt ~= '' and t.st == 'retrying' and f[2] == retryAt) or
  (retryAt == '' and t.st == endState and f[4] == now)) then
  return M.reply(id, {})
end
if not t or t.st ~= 'running' or f[1] ~= fence then
  return redis.error_reply('LEASE_LOST')
end

local transitions = {}
if retryAt ~= '' then
  redis.call('HSET', taskKey(id), 'st', 'retrying', 'ra', retryAt, 'e', err, 'w', '', 'lu', '')
  redis.call('ZREM', runningKey(t.q), id)
  redis.call('ZADD', K_DELAYED, retryAt, id)
  M.indexNotStarted(id, t, true)
  bump(t.q, 'running', 'retrying')
else
  M.finish(id, t, endState, now, err)
  if t.hd then M.failDependents(id, endState, now, transitions) end
end
return M.reply(id, transitions)
