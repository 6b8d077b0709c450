-- Shared by every task script (inlined where a script says `--- @include "task"`).
--
-- KEYS follow one layout for every task script (see lib/store/redis/keys.ts):
--   1 queues    SET   queue names that ever had a task
--   2 counts    HASH  "<state>|<queue>" -> number of tasks, for every state
--                     but queued and running (those are the sizes of q:/r:)
--   3 delayed   ZSET  scheduled/retrying task ids by runAt
--   4 finished  ZSET  terminal task ids by finishedAt
--   5 expiring  ZSET  not-started live task ids by expiresAt
--   6 deadlines ZSET  not-started live task ids by deadline
--   7 live      HASH  key -> id of the live task holding it (dedupe)
--   8 newest    HASH  key -> id of the newest task with that key (dependsOn by key)
--   9 all       ZSET  every task, score 0, member = createdAt (16 digits) .. id
--  10 results   ZSET  succeeded tasks that still hold a result, by finishedAt
-- ARGV[1] is the key prefix. Per-task keys (t:<id>), per-queue keys (q:<queue>
-- queued ids by sortKey, r:<queue> running ids by leaseUntil) and dependents
-- sets (dn:<id>) are built from it inside the scripts because
-- their names are only known once a task is read (a claim picks the task, a
-- cascade walks dependents). That is safe on one Redis; Redis Cluster would need
-- every key in one slot (a hash tag in the prefix).
--
-- Task hash fields the client reads ("" or absent = null; lib/store/redis/codec.ts):
--   d  static JSON written once by the client (id, type, queue, payload, score,
--      maxAttempts, createdAt; deadline, expiresAt, timeoutMs, key, resources
--      and correlationId only when set)
--   m  JSON { priority, sortKey, explanation } written by the client
--   st state, a attempts, f fence, p progress, pm progressMessage as JSON,
--   r result JSON, e error JSON, ra runAt, ea enqueuedAt, sa startedAt,
--   fa finishedAt, w workerId, lu leaseUntil, dp dependsOn (resolved ids, JSON;
--   absent = none), b the batch id (a batch's tasks only; see batchLive)
-- Copies the scripts read (absent = null): sk sortKey, q queue, ty type,
-- ma maxAttempts, ca createdAt (integer), k key, xa expiresAt, dl deadline,
-- rs resources JSON; and hd = "1" once some task depends on this one.
-- A new task's hash holds only the fields that differ from their defaults
-- (absent: p = 0, pm = null, the others null), about half of them; every
-- reader takes absent as the default. a and f are written all the same: the
-- scripts of the version before this one count on them, so its processes can
-- still claim and finish the tasks this one creates (a mixed cluster during
-- an upgrade). A change sets a nullable field back to "" (= null), so it stays
-- one HSET (no HDEL).

--- @include "variadic"

local P = ARGV[1]
local K_QUEUES, K_COUNTS, K_DELAYED, K_FINISHED = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_EXPIRING, K_DEADLINES, K_LIVE = KEYS[5], KEYS[6], KEYS[7]
local K_NEWEST, K_ALL, K_RESULTS = KEYS[8], KEYS[9], KEYS[10]

local function taskKey(id) return P .. 't:' .. id end
local function queueKey(queue) return P .. 'q:' .. queue end
local function runningKey(queue) return P .. 'r:' .. queue end
-- A task's member of the `all` index: createdAt as 16 digits, then the id.
local function allMember(createdAt, id) return string.rep('0', 16 - #createdAt) .. createdAt .. id end

-- Keeps a batch's live count (bh:<id> field lv: how many of its tasks have
-- not ended), so settling a batch while some of its tasks are live reads one
-- field, not every task (batch-settle-2.lua). A script that ends a task of a
-- batch (-1) or puts an ended one back (+1) calls this with the task's `b`,
-- read with the fields it reads anyway, so a task of no batch costs nothing.
-- A batch without lv (made before it was kept) or gone (retention) is left
-- alone, and so is a batch the task is not a member of (an id used again).
local function batchLive(id, batchId, delta)
  if not batchId or batchId == '' then return end
  local key = P .. 'bh:' .. batchId
  if redis.call('HEXISTS', key, 'lv') == 1 and redis.call('SISMEMBER', P .. 'bm:' .. batchId, id) == 1 then
    redis.call('HINCRBY', key, 'lv', string.format('%d', delta))
  end
end

-- Keeps the per-queue, per-state counters of queueCounts(). Queued and running
-- are not counted here: they are the sizes of q:<queue> and r:<queue>, which
-- spares claim and complete three HINCRBYs per task.
-- `add(field, delta)` is told each counter a move changes.
local function countMove(queue, from, to, add)
  if from and from ~= 'queued' and from ~= 'running' then add(from .. '|' .. queue, -1) end
  if to and to ~= 'queued' and to ~= 'running' then add(to .. '|' .. queue, 1) end
end

local function countNow(field, delta)
  redis.call('HINCRBY', K_COUNTS, field, string.format('%d', delta))
end

local function bump(queue, from, to)
  countMove(queue, from, to, countNow)
end

-- Writes that the batch scripts (enqueue, claim, complete) gather and send at
-- the end, one variadic command per key: a redis.call costs several times
-- what one more member in it does, and those scripts handle many tasks per
-- run. Nothing in a script reads these keys after writing them, and a script
-- that uses them calls flushLater() before it returns.
local later = { zadd = {}, zrem = {}, counts = {} }

-- The arguments gathered for one key of one command.
local function laterArgs(command, key)
  local args = later[command][key]
  if not args then
    args = {}
    later[command][key] = args
  end
  return args
end

local function zaddLater(key, score, member)
  local args = laterArgs('zadd', key)
  args[#args + 1] = score
  args[#args + 1] = member
end

local function zremLater(key, member)
  local args = laterArgs('zrem', key)
  args[#args + 1] = member
end

-- bump(), gathered: one HINCRBY per counter and script run.
local function countLater(field, delta)
  later.counts[field] = (later.counts[field] or 0) + delta
end

local function bumpLater(queue, from, to)
  countMove(queue, from, to, countLater)
end

local function flushLater()
  for key, args in pairs(later.zrem) do variadic('ZREM', key, args) end
  for key, args in pairs(later.zadd) do variadic('ZADD', key, args) end
  for field, delta in pairs(later.counts) do
    if delta ~= 0 then countNow(field, delta) end
  end
  later = { zadd = {}, zrem = {}, counts = {} }
end

-- What the client reads of a task, in the order of REPLY_FIELDS in codec.ts.
local function taskFields(id)
  return redis.call('HMGET', taskKey(id), 'd', 'm', 'st', 'a', 'f', 'p', 'pm', 'r', 'e', 'ra', 'ea', 'sa',
    'fa', 'w', 'lu', 'dp')
end

-- The helpers of every other state change. EVALSHA runs a script's whole body on
-- each call and every function defined there is a new closure, so the claim and
-- complete fast paths only build these when they need them.
local function loadMoves()
  local M = {}

  function M.isBadEnd(st) return st == 'failed' or st == 'dead' or st == 'cancelled' or st == 'expired' end
  function M.isTerminal(st) return st == 'succeeded' or M.isBadEnd(st) end
  function M.isNotStarted(st) return st == 'queued' or st == 'waiting' or st == 'scheduled' or st == 'retrying' end
  function M.isLive(st) return st == 'running' or M.isNotStarted(st) end

  function M.dependentsKey(id) return P .. 'dn:' .. id end

  -- The fields the state helpers need; nil when the task does not exist.
  function M.readTask(id)
    local f = redis.call('HMGET', taskKey(id), 'st', 'q', 'xa', 'dl', 'k', 'a', 'ma', 'w', 'sk', 'ra', 'hd', 'b')
    if not f[1] then return nil end
    local ra = f[10]
    if ra == '' then ra = false end
    return {
      st = f[1], q = f[2], xa = f[3], dl = f[4], k = f[5], a = tonumber(f[6] or '0'), ma = tonumber(f[7]),
      w = f[8], sk = f[9], ra = ra, hd = f[11], b = f[12],
    }
  end

  -- Removes a task from the index of the state it is leaving.
  function M.unindex(id, state, queue)
    if state == 'queued' then
      redis.call('ZREM', queueKey(queue), id)
    elseif state == 'scheduled' or state == 'retrying' then
      redis.call('ZREM', K_DELAYED, id)
    elseif state == 'running' then
      redis.call('ZREM', runningKey(queue), id)
    elseif M.isTerminal(state) then
      redis.call('ZREM', K_FINISHED, id)
      redis.call('ZREM', K_RESULTS, id)
    end
  end

  -- expireDue and tasksNearDeadline only look at tasks that have not started.
  function M.indexNotStarted(id, t, on)
    if t.xa then
      if on then redis.call('ZADD', K_EXPIRING, t.xa, id) else redis.call('ZREM', K_EXPIRING, id) end
    end
    if t.dl then
      if on then redis.call('ZADD', K_DEADLINES, t.dl, id) else redis.call('ZREM', K_DEADLINES, id) end
    end
  end

  -- A key is unique among live tasks only: a finished task frees it.
  function M.releaseKey(id, key)
    if key and redis.call('HGET', K_LIVE, key) == id then redis.call('HDEL', K_LIVE, key) end
  end

  -- Moves a task into a terminal state (from any state).
  function M.finish(id, t, to, now, err)
    local key = taskKey(id)
    M.unindex(id, t.st, t.q)
    if M.isNotStarted(t.st) then M.indexNotStarted(id, t, false) end
    if err then
      redis.call('HSET', key, 'st', to, 'fa', now, 'lu', '', 'e', err)
    else
      redis.call('HSET', key, 'st', to, 'fa', now, 'lu', '')
    end
    redis.call('ZADD', K_FINISHED, now, id)
    bump(t.q, t.st, to)
    M.releaseKey(id, t.k)
    if t.b and M.isLive(t.st) then batchLive(id, t.b, -1) end
  end

  -- Every waiting dependent (transitively) of a task that ended badly fails.
  -- Appends {id, from} transitions to `out`.
  function M.failDependents(rootId, rootState, now, out)
    local pending = { { rootId, rootState } }
    local i = 1
    while i <= #pending do
      local parent, parentState = pending[i][1], pending[i][2]
      i = i + 1
      for _, d in ipairs(redis.call('SMEMBERS', M.dependentsKey(parent))) do
        local t = M.readTask(d)
        if t and t.st == 'waiting' then
          local err = cjson.encode({
            message = 'dependency ' .. parent .. ' ended ' .. parentState, attempt = t.a, permanent = true,
          })
          M.finish(d, t, 'failed', now, err)
          out[#out + 1] = { d, 'waiting' }
          if t.hd then pending[#pending + 1] = { d, 'failed' } end
        end
      end
    end
  end

  -- True when every dependency of a task has succeeded. A dependency that is gone
  -- was trimmed, which only happens to finished tasks long ago: it counts as done.
  function M.dependenciesSucceeded(id)
    local deps = redis.call('HGET', taskKey(id), 'dp')
    if not deps then return true end
    for _, dep in ipairs(cjson.decode(deps)) do
      local st = redis.call('HGET', taskKey(dep), 'st')
      if st and st ~= 'succeeded' then return false end
    end
    return true
  end

  -- Puts a task that ended badly back (retry-10, change-10): queued, or waiting
  -- while some dependency has not succeeded; fresh attempts, sortKey unchanged;
  -- it takes its key back unless another live task holds it now.
  function M.retry(id, t, now)
    local to = 'queued'
    if not M.dependenciesSucceeded(id) then to = 'waiting' end
    M.unindex(id, t.st, t.q)
    redis.call('HSET', taskKey(id), 'st', to, 'a', 0, 'p', 0, 'pm', 'null', 'ea', now, 'e', '', 'r', '',
      'fa', '', 'sa', '', 'ra', '', 'w', '', 'lu', '')
    if to == 'queued' then redis.call('ZADD', queueKey(t.q), t.sk, id) end
    M.indexNotStarted(id, t, true)
    bump(t.q, t.st, to)
    if t.b then batchLive(id, t.b, 1) end
    if t.k then
      local holder = redis.call('HGET', K_LIVE, t.k)
      if not holder or not M.isLive(redis.call('HGET', taskKey(holder), 'st')) then
        redis.call('HSET', K_LIVE, t.k, id)
      end
    end
  end

  -- Waiting dependents whose dependencies have all succeeded become queued (or
  -- scheduled when their runAt is still ahead). Appends transitions to `out`.
  function M.releaseDependents(id, now, out)
    for _, d in ipairs(redis.call('SMEMBERS', M.dependentsKey(id))) do
      local t = M.readTask(d)
      if t and t.st == 'waiting' and M.dependenciesSucceeded(d) then
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

  -- Reply of a sweep (promote, recover, expire): { { id, from, fields }, ... }.
  function M.transitionsReply(transitions)
    local result = {}
    for _, tr in ipairs(transitions) do
      result[#result + 1] = { tr[1], tr[2], taskFields(tr[1]) }
    end
    return result
  end

  -- Reply of a step that changed one task and maybe others:
  -- { fields of the task, { id, from, fields }, ... }.
  function M.reply(id, transitions)
    local result = M.transitionsReply(transitions)
    table.insert(result, 1, taskFields(id))
    return result
  end

  return M
end
