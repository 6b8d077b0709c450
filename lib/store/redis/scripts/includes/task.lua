-- Shared helpers of every task script (inlined where a script says
-- `--- @include "task"`).
--
-- KEYS follow one layout for every task script (see lib/store/redis/keys.ts):
--   1 queues    SET   queue names that ever had a task
--   2 counts    HASH  "<state>|<queue>" -> number of tasks
--   3 delayed   ZSET  scheduled/retrying task ids by runAt
--   4 running   ZSET  running task ids by leaseUntil
--   5 finished  ZSET  terminal task ids by finishedAt
--   6 expiring  ZSET  not-started live task ids by expiresAt
--   7 deadlines ZSET  not-started live task ids by deadline
--   8 live      HASH  key -> id of the live task holding it (dedupe)
--   9 newest    HASH  key -> id of the newest task with that key (dependsOn by key)
--  10 all      ZSET  every task, score 0, member = createdAt (16 digits) .. id
--  11 results  ZSET  succeeded tasks that still hold a result, by finishedAt
-- ARGV[1] is the key prefix. Per-task keys (t:<id>), per-queue keys (q:<queue>)
-- and dependents sets (dn:<id>) are built from it inside the scripts because
-- their names are only known once a task is read (a claim picks the task, a
-- cascade walks dependents). That is safe on one Redis; Redis Cluster would need
-- every key in one slot (a hash tag in the prefix).
--
-- Task hash fields: d (static JSON: id, payload, score, timeoutMs,
-- correlationId, createdAt), st state, pr priority, sk sortKey, x explanation
-- JSON, a attempts, f fence, p progress, pm progressMessage, r result JSON,
-- e error JSON, ra runAt, ea enqueuedAt, sa startedAt, fa finishedAt,
-- w workerId, lu leaseUntil, q queue, ty type, ma maxAttempts, ca createdAt
-- (integer), k key, xa expiresAt, dl deadline, rs resources JSON, dp dependsOn
-- JSON, hd "1" when some task depends on this one. An absent field is null.

local P = ARGV[1]
local K_QUEUES, K_COUNTS, K_DELAYED, K_RUNNING = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_FINISHED, K_EXPIRING, K_DEADLINES = KEYS[5], KEYS[6], KEYS[7]
local K_LIVE, K_NEWEST, K_ALL, K_RESULTS = KEYS[8], KEYS[9], KEYS[10], KEYS[11]

local TERMINAL = { succeeded = true, failed = true, dead = true, cancelled = true, expired = true }
local BAD_END = { failed = true, dead = true, cancelled = true, expired = true }
local LIVE = { waiting = true, scheduled = true, queued = true, running = true, retrying = true }
local NOT_STARTED = { waiting = true, scheduled = true, queued = true, retrying = true }

local function taskKey(id) return P .. 't:' .. id end
local function queueKey(queue) return P .. 'q:' .. queue end
local function dependentsKey(id) return P .. 'dn:' .. id end
local function allMember(createdAt, id) return string.rep('0', 16 - #createdAt) .. createdAt .. id end

-- The fields the state helpers need; nil when the task does not exist.
local function readTask(id)
  local f = redis.call('HMGET', taskKey(id), 'st', 'q', 'xa', 'dl', 'k', 'a', 'ma', 'w', 'sk', 'ra', 'hd')
  if not f[1] then return nil end
  return {
    st = f[1], q = f[2], xa = f[3], dl = f[4], k = f[5], a = tonumber(f[6]), ma = tonumber(f[7]),
    w = f[8], sk = f[9], ra = f[10], hd = f[11],
  }
end

-- Keeps the per-queue, per-state counters of queueCounts().
local function bump(queue, from, to)
  if from then redis.call('HINCRBY', K_COUNTS, from .. '|' .. queue, -1) end
  if to then redis.call('HINCRBY', K_COUNTS, to .. '|' .. queue, 1) end
end

-- Removes a task from the index of the state it is leaving.
local function unindex(id, state, queue)
  if state == 'queued' then
    redis.call('ZREM', queueKey(queue), id)
  elseif state == 'scheduled' or state == 'retrying' then
    redis.call('ZREM', K_DELAYED, id)
  elseif state == 'running' then
    redis.call('ZREM', K_RUNNING, id)
  elseif TERMINAL[state] then
    redis.call('ZREM', K_FINISHED, id)
    redis.call('ZREM', K_RESULTS, id)
  end
end

-- expireDue and tasksNearDeadline only look at tasks that have not started.
local function indexNotStarted(id, t, on)
  if t.xa then
    if on then redis.call('ZADD', K_EXPIRING, t.xa, id) else redis.call('ZREM', K_EXPIRING, id) end
  end
  if t.dl then
    if on then redis.call('ZADD', K_DEADLINES, t.dl, id) else redis.call('ZREM', K_DEADLINES, id) end
  end
end

-- A key is unique among live tasks only: a finished task frees it.
local function releaseKey(id, key)
  if key and redis.call('HGET', K_LIVE, key) == id then redis.call('HDEL', K_LIVE, key) end
end

-- Moves a task into a terminal state (from any state).
local function finish(id, t, to, now, err)
  local key = taskKey(id)
  unindex(id, t.st, t.q)
  if NOT_STARTED[t.st] then indexNotStarted(id, t, false) end
  if err then
    redis.call('HSET', key, 'st', to, 'fa', now, 'e', err)
  else
    redis.call('HSET', key, 'st', to, 'fa', now)
  end
  redis.call('HDEL', key, 'lu')
  redis.call('ZADD', K_FINISHED, now, id)
  bump(t.q, t.st, to)
  releaseKey(id, t.k)
end

-- Every waiting dependent (transitively) of a task that ended badly fails.
-- Appends {id, from, fields} transitions to `out`.
local function failDependents(rootId, rootState, now, out)
  local pending = { { rootId, rootState } }
  local i = 1
  while i <= #pending do
    local parent, parentState = pending[i][1], pending[i][2]
    i = i + 1
    for _, d in ipairs(redis.call('SMEMBERS', dependentsKey(parent))) do
      local t = readTask(d)
      if t and t.st == 'waiting' then
        local err = cjson.encode({
          message = 'dependency ' .. parent .. ' ended ' .. parentState, attempt = t.a, permanent = true,
        })
        finish(d, t, 'failed', now, err)
        out[#out + 1] = { d, 'waiting' }
        if t.hd then pending[#pending + 1] = { d, 'failed' } end
      end
    end
  end
end

-- True when every dependency of a task has succeeded. A dependency that is gone
-- was trimmed, which only happens to finished tasks long ago: it counts as done.
local function dependenciesSucceeded(id)
  local deps = redis.call('HGET', taskKey(id), 'dp')
  if not deps then return true end
  for _, dep in ipairs(cjson.decode(deps)) do
    local st = redis.call('HGET', taskKey(dep), 'st')
    if st and st ~= 'succeeded' then return false end
  end
  return true
end

-- Waiting dependents whose dependencies have all succeeded become queued (or
-- scheduled when their runAt is still ahead). Appends transitions to `out`.
local function releaseDependents(id, now, out)
  for _, d in ipairs(redis.call('SMEMBERS', dependentsKey(id))) do
    local t = readTask(d)
    if t and t.st == 'waiting' and dependenciesSucceeded(d) then
      if t.ra and tonumber(t.ra) > tonumber(now) then
        redis.call('HSET', taskKey(d), 'st', 'scheduled')
        redis.call('ZADD', K_DELAYED, t.ra, d)
        bump(t.q, 'waiting', 'scheduled')
      else
        redis.call('HSET', taskKey(d), 'st', 'queued', 'ea', now)
        redis.call('ZADD', queueKey(t.q), t.sk, d)
        bump(t.q, 'waiting', 'queued')
      end
      out[#out + 1] = { d, 'waiting' }
    end
  end
end

-- Reply of a step that changed one task and maybe others:
-- { fields of the task, { id, from, fields }, ... }.
local function reply(id, transitions)
  local result = { redis.call('HGETALL', taskKey(id)) }
  for _, tr in ipairs(transitions) do
    result[#result + 1] = { tr[1], tr[2], redis.call('HGETALL', taskKey(tr[1])) }
  end
  return result
end

-- Reply of a sweep (promote, recover, expire): { { id, from, fields }, ... }.
local function transitionsReply(transitions)
  local result = {}
  for _, tr in ipairs(transitions) do
    result[#result + 1] = { tr[1], tr[2], redis.call('HGETALL', taskKey(tr[1])) }
  end
  return result
end
