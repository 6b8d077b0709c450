-- Records a failed attempt when the caller still holds the lease (fence).
-- ARGV: prefix, id, fence, error JSON, retryAt ("" = no retry), end state
-- ("failed" or "dead", used without retryAt), now.
-- Replies { fields, { id, from, fields } of each failed dependent, ... } or
-- the error "LEASE_LOST".
--- @include "task"

local id, fence, err, retryAt, endState, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local t = readTask(id)
if not t or t.st ~= 'running' or redis.call('HGET', taskKey(id), 'f') ~= fence then
  return redis.error_reply('LEASE_LOST')
end

local transitions = {}
if retryAt ~= '' then
  local key = taskKey(id)
  redis.call('HSET', key, 'st', 'retrying', 'ra', retryAt, 'e', err)
  redis.call('HDEL', key, 'w', 'lu')
  redis.call('ZREM', K_RUNNING, id)
  redis.call('ZADD', K_DELAYED, retryAt, id)
  indexNotStarted(id, t, true)
  bump(t.q, 'running', 'retrying')
else
  finish(id, t, endState, now, err)
  if t.hd then failDependents(id, endState, now, transitions) end
end
return reply(id, transitions)
