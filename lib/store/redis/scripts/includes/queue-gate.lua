-- Paused queues and rate limits, checked by the claims of one script run
-- (inlined into complete-claim-10.lua before "claim"). Read once per run:
--   <prefix>queues:paused  SET   paused queue names
--   <prefix>queues:limits  HASH  queue -> "max perMs" or "max perMs by" (a
--                          limit by group key; `by` is the template the client
--                          rendered at enqueue into the task's rateGroup)
--   <prefix>rl:<queue>:<window>  STRING  tasks of the queue started in that
--                          window (floor(now / perMs)); expires after two windows
--   <prefix>rlg:<window>:<#queue>:<queue>:<group>  STRING  the same per group
--                          of a queue limited by group key (the queue's own
--                          count is kept too, for GET /un/queues)
-- (No dollar sign in this file: the include is pasted in by String.replace.)
-- With neither (the common case) `gate` stays false and claims check nothing.

local gate = nil

local function loadGate()
  local paused = redis.call('SMEMBERS', P .. 'queues:paused')
  local limits = redis.call('HGETALL', P .. 'queues:limits')
  if #paused == 0 and #limits == 0 then
    gate = false
    return
  end
  gate = { paused = {}, limits = {} }
  for _, queue in ipairs(paused) do gate.paused[queue] = true end
  for i = 1, #limits, 2 do
    local max, perMs, by = string.match(limits[i + 1], '^(%d+) (%d+) ?(.*)')
    if max then
      gate.limits[limits[i]] = { max = tonumber(max), perMs = tonumber(perMs), grouped = by ~= '' }
    end
  end
end

-- The window key of a limited queue at `at` (epoch ms).
local function windowKey(queue, limit, at)
  return P .. 'rl:' .. queue .. ':' .. string.format('%d', math.floor(at / limit.perMs))
end

-- The window key of a group of a queue limited by group key (the queue's
-- length keeps a queue name with ':' from reading as another queue's group).
local function groupWindowKey(queue, group, limit, at)
  return P .. 'rlg:' .. string.format('%d', math.floor(at / limit.perMs)) .. ':' .. #queue .. ':' ..
    queue .. ':' .. group
end

local function countBelow(key, max)
  return tonumber(redis.call('GET', key) or '0') < max
end

-- The queues a claim may take from now: paused ones and full windows left
-- out. A queue limited by group key stays in: its tasks are checked one by
-- one (gateGroupLimit, gateGroupOpen).
local function gateQueues(queues, at)
  if gate == nil then loadGate() end
  if not gate then return queues end
  local open = {}
  for _, queue in ipairs(queues) do
    local limit = gate.limits[queue]
    if not gate.paused[queue] and
      (not limit or limit.grouped or countBelow(windowKey(queue, limit, at), limit.max)) then
      open[#open + 1] = queue
    end
  end
  return open
end

-- The limit by group key of `queue`, or nil.
local function gateGroupLimit(queue)
  local limit = gate and gate.limits[queue]
  if limit and limit.grouped then return limit end
  return nil
end

-- True when `group` of a queue limited by group key may start a task at `at`.
local function gateGroupOpen(queue, group, limit, at)
  return countBelow(groupWindowKey(queue, group, limit, at), limit.max)
end

local function countIn(key, limit)
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, limit.perMs * 2)
end

-- A task of `queue` (of `group`, in a queue limited by group key) started at `at`: counted.
local function gateTook(queue, group, at)
  local limit = gate and gate.limits[queue]
  if not limit then return end
  countIn(windowKey(queue, limit, at), limit)
  if limit.grouped then countIn(groupWindowKey(queue, group or '', limit, at), limit) end
end
