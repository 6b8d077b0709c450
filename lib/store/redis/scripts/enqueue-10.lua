-- Creates a batch of tasks in one atomic step (enqueue is a batch of one).
-- ARGV: prefix, now, count, then per task:
--   id, key ("" = none, else "=" .. key), queue, type, sortKey,
--   m ({ priority, sortKey, explanation } JSON), runAt, expiresAt, deadline
--   ("" = null), maxAttempts, resources JSON ("" = none), createdAt (integer
--   ms), static JSON (d), number of dependsOn entries, the entries.
-- After the tasks: the bounds (includes/queue-bound.lua, a count first), then
-- optionally the batch the new tasks join: its id, its parent's id ("" =
-- none), "1" when the batch must be new (else it is made or opened again).
-- A batch is bh:<id> (ca createdAt, pa parentId, co completedAt, lv how many
-- of its tasks are live, see batchLive in task.lua) and bm:<id> (its task ids;
-- each of them carries the batch id in field b); it is in bo (open, by createdAt) until announced, then in
-- bd (by completedAt, for retention), and in ba (every batch, by createdAt,
-- for listings) until retention removes it.
-- Replies per task, in input order, { 0, state, error, dependsOn } for a new
-- task (the client knows the rest), { 1, fields } for the live task it was
-- deduplicated to, or { 2, fields } for a task this very batch created before
-- (a replay, see step 0); or an error ("VALIDATION <json>", "CYCLE <json ids>",
-- "ID_TAKEN <id>", "BATCH_TAKEN <id>", "QUEUE_FULL <json>") before anything is written. After the
-- tasks: the bounds of the queues it touches (includes/queue-bound.lua). A batch the fast path takes
-- gets one string instead, a letter per task: q queued, s scheduled. A batch
-- that dropped queued tasks to make room gets { 'dropped', that reply, the
-- drops (applyDrops) }.
--- @include "task"
--- @include "queue-bound"

local now = ARGV[2]
local count = tonumber(ARGV[3])
-- An empty list (no refs, no dependencies, no extra fields): one table for all.
local NONE = {}

-- Writes a new task, for both paths below: its hash, which holds only the
-- fields that differ from their defaults (task.lua): those every task has,
-- then `extra` (name, value, ...: runAt when set, and what else is); and the
-- index of its first state. (Numbers go as strings: Redis formats a Lua
-- number it is given with printf, for every argument.)
local queuesSeen = {}
local function writeNewTask(key, id, st, d, m, sk, q, ty, ma, ca, ra, extra)
  redis.call('HSET', key, 'd', d, 'm', m, 'st', st, 'sk', sk, 'a', '0', 'f', '0', 'ea', now, 'q', q, 'ty', ty,
    'ma', ma, 'ca', ca, unpack(extra))
  if st == 'queued' then
    zaddLater(queueKey(q), sk, id)
  elseif st == 'scheduled' then
    zaddLater(K_DELAYED, ra, id)
  elseif st == 'failed' then
    zaddLater(K_FINISHED, now, id)
  end
  zaddLater(K_ALL, '0', allMember(ca, id))
  if not queuesSeen[q] then
    queuesSeen[q] = true
    redis.call('SADD', K_QUEUES, q)
  end
  bumpLater(q, nil, st)
end

-- The batch after the bounds at `at` (see the header); nil: none.
local function readBatch(at)
  local b = at + 1 + 3 * tonumber(ARGV[at] or '0')
  local id = ARGV[b]
  if not id or id == '' then return nil end
  return { id = id, parent = ARGV[b + 1], new = ARGV[b + 2] == '1', key = P .. 'bh:' .. id }
end

-- Before anything is written: the error reply when a new batch's id is taken.
local function batchTaken(batch)
  if batch and batch.new and redis.call('EXISTS', batch.key) == 1 then
    return redis.error_reply('BATCH_TAKEN ' .. batch.id)
  end
  return nil
end

-- After the tasks are written: they join the batch, which opens again if it
-- had completed; `live` of them are live (a task whose dependency had ended
-- badly starts failed). A new batch starts its live count; one made before
-- the count was kept goes on without it (settled by reading its tasks).
local function joinBatch(batch, ids, live)
  if not batch then return end
  if redis.call('HSETNX', batch.key, 'ca', now) == 1 then
    redis.call('HSET', batch.key, 'lv', string.format('%d', live))
  elseif redis.call('HEXISTS', batch.key, 'lv') == 1 then
    redis.call('HINCRBY', batch.key, 'lv', string.format('%d', live))
  end
  if batch.parent ~= '' then redis.call('HSETNX', batch.key, 'pa', batch.parent) end
  redis.call('HDEL', batch.key, 'co')
  local ca = redis.call('HGET', batch.key, 'ca')
  redis.call('ZADD', P .. 'bo', ca, batch.id)
  redis.call('ZADD', P .. 'ba', ca, batch.id)
  redis.call('ZREM', P .. 'bd', batch.id)
  if #ids > 0 then variadic('SADD', P .. 'bm:' .. batch.id, ids) end
end

-- The fast path's new tasks per bounded queue (all of them count), by id.
local function plainAdding(bounds)
  local adding, c = {}, 4
  for _ = 1, count do
    local q = ARGV[c + 2]
    if bounds[q] then
      adding[q] = adding[q] or {}
      adding[q][#adding[q] + 1] = ARGV[c]
    end
    c = c + 14
  end
  return adding
end

-- The reply, with the drops the bounds made room by (nil: none planned).
local function withDrops(reply, M, drops)
  if drops == nil or #drops == 0 then return reply end
  return { 'dropped', reply, applyDrops(M, drops, now) }
end

-- Fast path, the common case: plain tasks (no key, dependsOn, expiresAt,
-- deadline or resources) none of which exists yet, so the batch is no replay
-- and nothing can conflict. It writes as the general path below does
-- (writeNewTask), with one EXISTS for the whole batch and none of the general
-- path's tables. nil when the batch is not such a batch (nothing written then).
local function plainBatch()
  local keys, ids, c = {}, {}, 4
  for i = 1, count do
    if ARGV[c + 1] ~= '' or ARGV[c + 7] ~= '' or ARGV[c + 8] ~= '' or ARGV[c + 10] ~= '' or ARGV[c + 13] ~= '0' then
      return nil
    end
    -- An id twice in the batch: the general path reports it.
    if ids[ARGV[c]] then return nil end
    ids[ARGV[c]] = true
    keys[i] = taskKey(ARGV[c])
    c = c + 14
  end
  -- One EXISTS for the batch: 0 means no task of it exists.
  for i = 1, count, VARIADIC_CHUNK do
    if redis.call('EXISTS', unpack(keys, i, math.min(i + VARIADIC_CHUNK - 1, count))) > 0 then return nil end
  end
  local bounds, drops = readBounds(c), nil
  if bounds then
    local full
    full, drops = planBounds(bounds, plainAdding(bounds))
    if full then return full end
  end
  local batch = readBatch(c)
  local taken = batchTaken(batch)
  if taken then return taken end
  local nowNumber, states, created = tonumber(now), {}, {}
  c = 4
  for i = 1, count do
    local ra = ARGV[c + 6]
    local st, letter = 'queued', 'q'
    if ra ~= '' and tonumber(ra) > nowNumber then st, letter = 'scheduled', 's' end
    local extra = NONE
    if ra ~= '' and batch then
      extra = { 'ra', ra, 'b', batch.id }
    elseif ra ~= '' then
      extra = { 'ra', ra }
    elseif batch then
      extra = { 'b', batch.id }
    end
    writeNewTask(keys[i], ARGV[c], st, ARGV[c + 12], ARGV[c + 5], ARGV[c + 4], ARGV[c + 2], ARGV[c + 3], ARGV[c + 9],
      ARGV[c + 11], ra, extra)
    states[i] = letter
    created[i] = ARGV[c]
    c = c + 14
  end
  joinBatch(batch, created, count)
  flushLater()
  if drops and #drops > 0 then return withDrops(table.concat(states), loadMoves(), drops) end
  return table.concat(states)
end
local plain = plainBatch()
if plain then return plain end

local M = loadMoves()
local tasks = {}
local c = 4
for i = 1, count do
  local t = {
    id = ARGV[c], key = ARGV[c + 1], q = ARGV[c + 2], ty = ARGV[c + 3], sk = ARGV[c + 4],
    m = ARGV[c + 5], ra = ARGV[c + 6], xa = ARGV[c + 7], dl = ARGV[c + 8],
    ma = ARGV[c + 9], rs = ARGV[c + 10], ca = ARGV[c + 11], d = ARGV[c + 12], refs = NONE,
  }
  local n = tonumber(ARGV[c + 13])
  c = c + 14
  if n > 0 then
    t.refs = {}
    for j = 1, n do t.refs[j] = ARGV[c + j - 1] end
    c = c + n
  end
  if t.key == '' then t.key = false else t.key = string.sub(t.key, 2) end
  tasks[i] = t
end

-- 0. A replay of this very batch: ioredis resends a command whose reply a
-- dropped connection lost, and the first run was applied. Task ids are new
-- ULIDs, so a task of the batch stored with the same static part means the
-- batch ran: each task comes back as it is now, and nothing is written again.
for _, t in ipairs(tasks) do
  local stored = redis.call('HGET', taskKey(t.id), 'd')
  if stored then
    if stored ~= t.d then break end
    local replay = {}
    for i, u in ipairs(tasks) do
      local holder = u.id
      if redis.call('EXISTS', taskKey(u.id)) == 0 and u.key then
        -- It was deduplicated the first time: the task that holds its key.
        holder = redis.call('HGET', K_LIVE, u.key) or redis.call('HGET', K_NEWEST, u.key) or u.id
        replay[i] = { 1, taskFields(holder) }
      else
        replay[i] = { 2, taskFields(holder) }
      end
    end
    return replay
  end
  if not t.key then break end
end

local function invalid(field, value, message)
  return redis.error_reply('VALIDATION ' .. cjson.encode({ field = field, value = value, message = message }))
end

-- 1. Dedupe by key against live tasks and earlier tasks of this batch.
local batchIds, batchKeys, created = {}, {}, {}
for i, t in ipairs(tasks) do
  if batchIds[t.id] or redis.call('EXISTS', taskKey(t.id)) == 1 then
    return redis.error_reply('ID_TAKEN ' .. t.id)
  end
  if t.key then
    local holder = redis.call('HGET', K_LIVE, t.key)
    if holder and M.isLive(redis.call('HGET', taskKey(holder), 'st')) then
      t.dedup = holder
    elseif batchKeys[t.key] and not tasks[batchKeys[t.key]].dedup then
      t.dedup = tasks[batchKeys[t.key]].id
    end
    -- The newest task with this key (or the live one it was deduplicated to).
    if not (t.dedup and batchKeys[t.key]) then batchKeys[t.key] = i end
  end
  batchIds[t.id] = i
  if not t.dedup then created[t.id] = i end
end

local function resolvedBatchId(i)
  return tasks[i].dedup or tasks[i].id
end

-- 2. Resolve dependsOn: ids and keys of this batch first (they are the newest),
-- then existing task ids, then the newest existing task with that key.
for _, t in ipairs(tasks) do
  if not t.dedup and t.refs == NONE then
    t.deps = NONE
  elseif not t.dedup then
    local seen = {}
    t.deps = {}
    for _, ref in ipairs(t.refs) do
      local id
      if batchIds[ref] then
        id = resolvedBatchId(batchIds[ref])
      elseif batchKeys[ref] then
        id = resolvedBatchId(batchKeys[ref])
      elseif redis.call('EXISTS', taskKey(ref)) == 1 then
        id = ref
      else
        local newest = redis.call('HGET', K_NEWEST, ref)
        if newest and redis.call('EXISTS', taskKey(newest)) == 1 then id = newest end
      end
      if not id then
        return invalid('dependsOn', ref, 'dependsOn names no task id or key: ' .. ref)
      end
      if id == t.id then
        return redis.error_reply('CYCLE ' .. cjson.encode({ t.id, t.id }))
      end
      if not seen[id] then
        seen[id] = true
        t.deps[#t.deps + 1] = id
      end
    end
  end
end

-- 3. Find cycles inside the batch (existing tasks cannot depend on new ones) and
-- decide each new task's first state, dependencies first (depth-first post-order).
local nowNumber = tonumber(now)
local color, path = {}, {}
local function initialState(t)
  local pendingDep = false
  for _, dep in ipairs(t.deps) do
    local st
    if created[dep] then st = tasks[created[dep]].st else st = redis.call('HGET', taskKey(dep), 'st') end
    if M.isBadEnd(st) then
      t.err = cjson.encode({ message = 'dependency ' .. dep .. ' ended ' .. st, attempt = 0, permanent = true })
      return 'failed'
    end
    if st ~= 'succeeded' then pendingDep = true end
  end
  if pendingDep then return 'waiting' end
  if t.ra ~= '' and tonumber(t.ra) > nowNumber then return 'scheduled' end
  return 'queued'
end
local function visit(i)
  color[i] = 1
  path[#path + 1] = tasks[i].id
  for _, dep in ipairs(tasks[i].deps) do
    local j = created[dep]
    if j then
      if color[j] == 1 then
        local cycle, inside = {}, false
        for _, id in ipairs(path) do
          if id == dep then inside = true end
          if inside then cycle[#cycle + 1] = id end
        end
        cycle[#cycle + 1] = dep
        return cycle
      elseif not color[j] then
        local cycle = visit(j)
        if cycle then return cycle end
      end
    end
  end
  path[#path] = nil
  color[i] = 2
  tasks[i].st = initialState(tasks[i])
  return nil
end
for i, t in ipairs(tasks) do
  if not t.dedup and not color[i] and t.deps == NONE then
    -- Nothing to walk: no cycle can pass through it.
    color[i] = 2
    t.st = initialState(t)
  elseif not t.dedup and not color[i] then
    local cycle = visit(i)
    if cycle then return redis.error_reply('CYCLE ' .. cjson.encode(cycle)) end
  end
end

-- The bounds: a batch that would overfill a queue writes nothing.
local bounds, drops = readBounds(c), nil
if bounds then
  local adding = {}
  for _, t in ipairs(tasks) do
    if not t.dedup and bounds[t.q] and (t.st == 'queued' or t.st == 'scheduled') then
      adding[t.q] = adding[t.q] or {}
      adding[t.q][#adding[t.q] + 1] = t.id
    end
  end
  local full
  full, drops = planBounds(bounds, adding)
  if full then return full end
end
local batch = readBatch(c)
local taken = batchTaken(batch)
if taken then return taken end

-- 4. Write the new tasks and their indexes.
local function add(fields, name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
for _, t in ipairs(tasks) do
  if not t.dedup then
    local extra = {}
    if t.ra ~= '' then add(extra, 'ra', t.ra) end
    if t.err then
      add(extra, 'e', t.err)
      add(extra, 'fa', now)
    end
    if t.key then add(extra, 'k', t.key) end
    if t.xa ~= '' then add(extra, 'xa', t.xa) else t.xa = false end
    if t.dl ~= '' then add(extra, 'dl', t.dl) else t.dl = false end
    if t.rs ~= '' then add(extra, 'rs', t.rs) end
    if batch then add(extra, 'b', batch.id) end
    if #t.deps > 0 then
      t.dp = cjson.encode(t.deps)
      add(extra, 'dp', t.dp)
    end
    writeNewTask(taskKey(t.id), t.id, t.st, t.d, t.m, t.sk, t.q, t.ty, t.ma, t.ca, t.ra, extra)
    if t.st ~= 'failed' then M.indexNotStarted(t.id, t, true) end
    if t.key then
      redis.call('HSET', K_NEWEST, t.key, t.id)
      if t.st ~= 'failed' then redis.call('HSET', K_LIVE, t.key, t.id) end
    end
  end
end
for _, t in ipairs(tasks) do
  if not t.dedup then
    for _, dep in ipairs(t.deps) do
      redis.call('SADD', M.dependentsKey(dep), t.id)
      redis.call('HSET', taskKey(dep), 'hd', '1')
    end
  end
end

local joined, live = {}, 0
for _, t in ipairs(tasks) do
  if not t.dedup then joined[#joined + 1] = t.id end
  if not t.dedup and t.st ~= 'failed' then live = live + 1 end
end
joinBatch(batch, joined, live)
flushLater()
local result = {}
for i, t in ipairs(tasks) do
  if t.dedup then
    result[i] = { 1, taskFields(t.dedup) }
  else
    result[i] = { 0, t.st, t.err or '', t.dp or false }
  end
end
return withDrops(result, M, drops)
