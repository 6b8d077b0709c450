-- Records a failed attempt when the caller still holds the lease (fence).
-- ARGV: prefix, id, fence, error JSON, retryAt ("" = no retry), end state
-- ("failed" or "dead", used without retryAt), now.
-- Replies { fields, { id, from, fields } of each failed dependent, ... } or
-- the error "LEASE_LOST".
--- @include "task"

local id, fence, err, retryAt, endState, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local M = loadMoves()
local t = M.readTask(id)
if not t or t.st ~= 'running' or redis.call('HGET', taskKey(id), 'f') ~= fence then
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
