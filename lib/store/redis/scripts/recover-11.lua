-- Running tasks whose lease ran out (every running task with all = "1") go back
-- to queued, or dead (dependents fail) when no attempts are left. The fence is
-- left alone: the next claim bumps it, and the old holder's complete fails
-- because the task is no longer running.
-- ARGV: prefix, now, all ("1"/"0"), limit. Replies { { id, from, fields }, ... }.
--- @include "task"

local now, all, limit = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local ids
if all then
  ids = redis.call('ZRANGE', K_RUNNING, 0, limit - 1)
else
  ids = redis.call('ZRANGEBYSCORE', K_RUNNING, '-inf', '(' .. now, 'LIMIT', 0, limit)
end

local transitions = {}
for _, id in ipairs(ids) do
  local t = readTask(id)
  if not t or t.st ~= 'running' then
    redis.call('ZREM', K_RUNNING, id)
  else
    local err = cjson.encode({
      message = 'lease expired: worker ' .. (t.w or 'unknown') .. ' stopped renewing', attempt = t.a,
    })
    local key = taskKey(id)
    if t.a < t.ma then
      redis.call('ZREM', K_RUNNING, id)
      redis.call('HSET', key, 'st', 'queued', 'e', err)
      redis.call('HDEL', key, 'w', 'lu')
      redis.call('ZADD', queueKey(t.q), t.sk, id)
      indexNotStarted(id, t, true)
      bump(t.q, 'running', 'queued')
      transitions[#transitions + 1] = { id, 'running' }
    else
      finish(id, t, 'dead', now, err)
      transitions[#transitions + 1] = { id, 'running' }
      if t.hd then failDependents(id, 'dead', now, transitions) end
    end
  end
end
return transitionsReply(transitions)
