-- A claim (inlined into complete-claim-10.lua). Each request takes the
-- queued task with the lowest sortKey (ties: lowest id, which is how a ZSET
-- orders equal scores) from its queues, and a lease on it.
-- Its reply, nil or what the client cannot know of the claimed task:
-- { d, m, attempts, fence, e, ra, ea, dp } (the rest is set from the request).
-- Skipped on the way: tasks whose resources do not fit (they stay queued),
-- tasks of a group whose rate-limit window is full (they stay queued, and hold
-- nothing back from other groups) and tasks whose expiresAt has passed (they
-- become expired, dependents fail). At
-- most MAX_EXAMINED tasks are looked at per request, so a claim never blocks
-- Redis for long; a pool that cannot fit the first MAX_EXAMINED tasks waits for
-- the next.
--
-- Resources: a request names a budget { free, cap } (or none: no limit) that
-- the claims of one script run share; a claim that takes a task subtracts
-- what it asks for from `free`, so the next claim of the run sees what is
-- left. A task skipped for want of resources that fit `cap` holds back what
-- it needs from the tasks behind it in this claim (so they cannot starve it);
-- one asking for more than `cap` holds nothing back.

local MAX_EXAMINED = 1000
-- The request being claimed for (set by the caller before claimOne).
local workerId, leaseUntil, now, nowNumber, budget
local CLEAR_PROGRESS, NO_FIELDS = { 'p', '0', 'pm', 'null' }, {}

-- One read per candidate: what the checks need and what the reply carries.
local function read(id)
  return redis.call('HMGET', taskKey(id), 'a', 'f', 'xa', 'rs', 'dl', 'k', 'hd', 'd', 'm', 'e', 'ra', 'ea', 'dp', 'b')
end

local function expired(f)
  return f[3] and tonumber(f[3]) <= nowNumber
end

-- The resources a task asks for (false: none; absent when it asks for none).
local function asked(f)
  if not f[4] or f[4] == '' then return false end
  return cjson.decode(f[4])
end

-- True when every amount asked for is in `free` (false = no limit).
local function fitsIn(need, free)
  if not need or not free then return true end
  for name, amount in pairs(need) do
    if amount > 0 and not (amount <= (free[name] or 0)) then return false end
  end
  return true
end

-- `free` minus what a skipped task needs when it fits the capacity (a copy).
local function holdBack(need, free)
  local left = {}
  for name, amount in pairs(free) do left[name] = amount end
  if budget.cap and fitsIn(need, budget.cap) then
    for name, amount in pairs(need) do
      if amount > 0 then left[name] = (left[name] or 0) - amount end
    end
  end
  return left
end

-- The claimed task now holds what it asked for.
local function subtract(need)
  if not need or not budget then return end
  for name, amount in pairs(need) do
    if amount > 0 then budget.free[name] = (budget.free[name] or 0) - amount end
  end
end

-- The task is out of its queue already.
local function expire(id, queue, f)
  local M = loadMoves()
  M.finish(id, { st = 'queued', q = queue, xa = f[3], dl = f[5], k = f[6], b = f[14] }, 'expired', now, false)
  if f[7] then M.failDependents(id, 'expired', now, {}) end
end

-- The group key of a task (from its `d`; "" when it has none).
local function groupOf(f)
  local d = cjson.decode(f[8])
  if type(d.rateGroup) == 'string' then return d.rateGroup end
  return ''
end

-- The task is out of its queue already.
local function take(id, queue, f, need, group)
  subtract(need)
  local attempts, fence = tonumber(f[1] or '0') + 1, tonumber(f[2] or '0') + 1
  -- Integers formatted here: Redis would format a Lua number with printf's %.17g.
  -- A retry clears the progress the attempt before it reported (a first
  -- attempt has none: the fields are absent).
  local cleared = CLEAR_PROGRESS
  if attempts == 1 then cleared = NO_FIELDS end
  redis.call('HSET', taskKey(id), 'st', 'running', 'w', workerId, 'a', string.format('%d', attempts),
    'f', string.format('%d', fence), 'lu', leaseUntil, 'sa', now, unpack(cleared))
  zaddLater(runningKey(queue), leaseUntil, id)
  if gate then gateTook(queue, group, nowNumber) end
  if f[3] then redis.call('ZREM', K_EXPIRING, id) end
  if f[5] then redis.call('ZREM', K_DEADLINES, id) end
  return { f[8], f[9], attempts, fence, f[10], f[11], f[12], f[13] }
end

local function claimOne(queues)
  local examined = 0

  -- The common case, one queue: pop its head. A head that does not fit goes
  -- back with its score and the general scan below takes over, which is
  -- also where a queue limited by group key is read (its head may wait).
  if #queues == 1 and not gateGroupLimit(queues[1]) then
    local qk = queueKey(queues[1])
    while examined < MAX_EXAMINED do
      examined = examined + 1
      local popped = redis.call('ZPOPMIN', qk)
      if not popped[1] then return false end
      local id = popped[1]
      local f = read(id)
      local need = asked(f)
      if expired(f) then
        expire(id, queues[1], f)
      elseif not fitsIn(need, budget and budget.free) then
        redis.call('ZADD', qk, popped[2], id)
        break
      else
        return take(id, queues[1], f, need)
      end
    end
  end

  -- General case: merge the heads of every queue, each read at an offset that
  -- moves past tasks that do not fit.
  local offsets, heads = {}, {}
  local function fetchHead(i)
    local r = redis.call('ZRANGE', queueKey(queues[i]), offsets[i], offsets[i], 'WITHSCORES')
    if r[1] then heads[i] = { r[1], tonumber(r[2]) } else heads[i] = false end
  end
  for i = 1, #queues do
    offsets[i] = 0
    fetchHead(i)
  end

  -- What this claim may still take: the budget's, until a skipped task holds some back.
  local free = budget and budget.free
  while examined < MAX_EXAMINED do
    examined = examined + 1
    local best = false
    for i = 1, #queues do
      local h = heads[i]
      if h then
        if not best then
          best = i
        else
          local b = heads[best]
          if h[2] < b[2] or (h[2] == b[2] and h[1] < b[1]) then best = i end
        end
      end
    end
    if not best then return false end

    local id, queue = heads[best][1], queues[best]
    local f = read(id)
    local need = asked(f)
    local groupLimit, group = gateGroupLimit(queue), nil
    if groupLimit then group = groupOf(f) end
    if expired(f) then
      redis.call('ZREM', queueKey(queue), id)
      expire(id, queue, f)
      fetchHead(best)
    elseif groupLimit and not gateGroupOpen(queue, group, groupLimit, nowNumber) then
      offsets[best] = offsets[best] + 1
      fetchHead(best)
    elseif not fitsIn(need, free) then
      free = holdBack(need, free)
      offsets[best] = offsets[best] + 1
      fetchHead(best)
    else
      redis.call('ZREM', queueKey(queue), id)
      return take(id, queue, f, need, group)
    end
  end
  return false
end
