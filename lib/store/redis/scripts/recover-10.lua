-- Running tasks whose lease ran out (every running task with all = "1") go back
-- to queued, or dead (dependents fail) when no attempts are left. The fence is
-- left alone: the next claim bumps it, and the old holder's complete fails
-- because the task is no longer running.
-- ARGV: prefix, now, all ("1"/"0"), limit. Replies { { id, from, fields }, ... }.
--- @include "task"

local now, all, limit = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local M = loadMoves()

-- Running tasks are indexed per queue (r:<queue>), so walk every queue.
local stalled = {}
for _, queue in ipairs(redis.call('SMEMBERS', K_QUEUES)) do
  local left = limit - #stalled
  if left <= 0 then break end
  local ids
  if all then
    ids = redis.call('ZRANGE', runningKey(queue), 0, left - 1)
  else
    ids = redis.call('ZRANGEBYSCORE', runningKey(queue), '-inf', '(' .. now, 'LIMIT', 0, left)
  end
  for _, id in ipairs(ids) do stalled[#stalled + 1] = { id, queue } end
end

local transitions = {}
for _, entry in ipairs(stalled) do
  local id, queue = entry[1], entry[2]
  local t = M.readTask(id)
  if not t or t.st ~= 'running' then
    redis.call('ZREM', runningKey(queue), id)
  else
    local worker = t.w
    if not worker or worker == '' then worker = 'unknown' end
    local err = cjson.encode({ message = 'lease expired: worker ' .. worker .. ' stopped renewing', attempt = t.a })
    transitions[#transitions + 1] = { id, 'running' }
    if t.a < t.ma then
      redis.call('ZREM', runningKey(queue), id)
      redis.call('HSET', taskKey(id), 'st', 'queued', 'e', err, 'w', '', 'lu', '')
      redis.call('ZADD', queueKey(queue), t.sk, id)
      M.indexNotStarted(id, t, true)
    else
      M.finish(id, t, 'dead', now, err)
      if t.hd then M.failDependents(id, 'dead', now, transitions) end
    end
  end
end
return M.transitionsReply(transitions)
