-- Bounded queues (inlined by enqueue): the client appends, after the tasks,
-- the number of bounded queues the batch touches, then per queue: its name,
-- maxSize and overflow policy ('' refuses; 'drop-oldest' or
-- 'drop-lowest-priority' cancel queued tasks to make room).
-- A queue's size is ZCARD q:<queue> plus its scheduled and retrying counters,
-- all kept already by every state change, so the check costs three reads per
-- bounded queue and nothing for a batch without bounds. Choosing what to drop
-- reads each queued task of the queue once (at most maxSize of them): no index
-- by age or priority is kept, which every enqueue and claim would pay for.

-- The bounds from ARGV[at] on; nil when there are none.
local function readBounds(at)
  local n = tonumber(ARGV[at] or '0')
  if n == 0 then return nil end
  local bounds = {}
  for i = 1, n do
    local j = at + 3 * (i - 1)
    bounds[ARGV[j + 1]] = { max = tonumber(ARGV[j + 2]), policy = ARGV[j + 3] }
  end
  return bounds
end

local function queueSize(q)
  local pending = redis.call('HMGET', K_COUNTS, 'scheduled|' .. q, 'retrying|' .. q)
  return redis.call('ZCARD', queueKey(q)) + tonumber(pending[1] or '0') + tonumber(pending[2] or '0')
end

-- The ids of up to n queued tasks of q a policy drops, first first: the oldest
-- (created first), or the lowest priority and, among equals, the oldest.
local function dropCandidates(q, policy, n)
  local rows = {}
  for i, id in ipairs(redis.call('ZRANGE', queueKey(q), 0, -1)) do
    local f = redis.call('HMGET', taskKey(id), 'ca', 'm')
    local p = 0
    -- m is { priority, sortKey, explanation } as JSON, priority first.
    if policy == 'drop-lowest-priority' then p = tonumber(string.match(f[2] or '', '"priority":(%-?[%d%.]+)')) or 0 end
    rows[i] = { id = id, ca = tonumber(f[1]) or 0, p = p }
  end
  table.sort(rows, function(a, b)
    if a.p ~= b.p then return a.p < b.p end
    if a.ca ~= b.ca then return a.ca < b.ca end
    return a.id < b.id
  end)
  local ids = {}
  for i = 1, math.min(n, #rows) do ids[i] = rows[i].id end
  return ids
end

-- `adding`: queue -> the ids of the new tasks that count against its bound, in
-- batch order. Returns an error reply naming the first queue the batch would
-- take past its bound with too little to drop, else nil and the drops: { id,
-- by (the new task taking its place), queue, bound } each. Writes nothing.
local function planBounds(bounds, adding)
  local drops = {}
  for q, ids in pairs(adding) do
    local b = bounds[q]
    if b then
      local n, size = #ids, queueSize(q)
      if size + n > b.max then
        -- A queue already past a bound lowered since: room is made for the batch only.
        local over = math.min(size + n - b.max, n)
        local victims = {}
        if b.policy ~= '' then victims = dropCandidates(q, b.policy, over) end
        if #victims < over then
          return redis.error_reply('QUEUE_FULL ' .. cjson.encode({ queue = q, size = size, maxSize = b.max })), nil
        end
        -- The last `over` tasks of the batch are those past the bound.
        for i, id in ipairs(victims) do drops[#drops + 1] = { id, ids[n - over + i], q, b } end
      end
    end
  end
  return nil, drops
end

-- Cancels the planned drops (with the error saying why; their waiting
-- dependents fail as on any cancel). Returns { by, { fields, transitions... } } each.
local function applyDrops(M, drops, now)
  local out = {}
  for _, d in ipairs(drops) do
    local id, by, q, b = d[1], d[2], d[3], d[4]
    local t = M.readTask(id)
    local message = 'dropped (' .. b.policy .. '): queue ' .. q .. ' was full (' .. b.max .. ' tasks) when ' ..
      by .. ' was created'
    M.finish(id, t, 'cancelled', now, cjson.encode({ message = message, attempt = 0, permanent = true }))
    local transitions = {}
    if t.hd then M.failDependents(id, 'cancelled', now, transitions) end
    out[#out + 1] = { by, M.reply(id, transitions) }
  end
  return out
end
