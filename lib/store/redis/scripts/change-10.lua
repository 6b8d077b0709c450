-- One batch of a bulk action (TaskStore.changeTasks): the same step as the
-- single-task scripts (cancel-10, retry-10, reprioritize-10) for each task
-- named, in one script run; a task the action no longer applies to is skipped.
-- ARGV: prefix, action ("cancel" | "retry" | "delete" | "reprioritize"), now,
-- then the ids, or for reprioritize (id, sortKey, m) triples.
-- Replies { { fields of each task changed (deleted: as it was) }, { id, from,
-- fields } of each dependent that failed with them }.
--- @include "task"

local action, now = ARGV[2], ARGV[3]
local M = loadMoves()
local changed, transitions = {}, {}

local function cancel(id, t)
  M.finish(id, t, 'cancelled', now, false)
  if t.hd then M.failDependents(id, 'cancelled', now, transitions) end
end

-- As trim-10 removes a finished task; a live one is cancelled first.
local function delete(id, t)
  if not M.isTerminal(t.st) then
    cancel(id, t)
    t.st = 'cancelled'
  end
  local key = taskKey(id)
  local ca = redis.call('HGET', key, 'ca')
  M.unindex(id, t.st, t.q)
  if ca then redis.call('ZREM', K_ALL, allMember(ca, id)) end
  bump(t.q, t.st, nil)
  if t.k and redis.call('HGET', K_NEWEST, t.k) == id then redis.call('HDEL', K_NEWEST, t.k) end
  redis.call('DEL', key, M.dependentsKey(id))
end

if action == 'reprioritize' then
  for i = 4, #ARGV, 3 do
    local id, sortKey, m = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local t = M.readTask(id)
    if t and M.isNotStarted(t.st) then
      redis.call('HSET', taskKey(id), 'sk', sortKey, 'm', m)
      if t.st == 'queued' then redis.call('ZADD', queueKey(t.q), sortKey, id) end
      changed[#changed + 1] = taskFields(id)
    end
  end
  return { changed, M.transitionsReply(transitions) }
end

for i = 4, #ARGV do
  local id = ARGV[i]
  local t = M.readTask(id)
  if t then
    if action == 'cancel' and not M.isTerminal(t.st) then
      cancel(id, t)
      changed[#changed + 1] = taskFields(id)
    elseif action == 'retry' and M.isBadEnd(t.st) then
      M.retry(id, t, now)
      changed[#changed + 1] = taskFields(id)
    elseif action == 'delete' and t.st ~= 'running' then
      local before = taskFields(id)
      delete(id, t)
      changed[#changed + 1] = before
    end
  end
end
return { changed, M.transitionsReply(transitions) }
