-- Takes the queued task with the lowest sortKey (ties: lowest id, which is how a
-- ZSET orders equal scores) from the given queues, and a lease on it.
-- ARGV: prefix, workerId, leaseUntil, now, available resources JSON ("" = no
-- limit), "*" for every queue or "" followed by the queue names.
-- Replies the claimed task's fields, or nil.
-- Skipped on the way: tasks whose resources do not fit (they stay queued) and
-- tasks whose expiresAt has passed (they become expired, dependents fail). At
-- most MAX_EXAMINED tasks are looked at, so one claim never blocks Redis for
-- long; a pool that cannot fit the first MAX_EXAMINED tasks waits for the next.
--- @include "task"

local MAX_EXAMINED = 1000
local workerId, leaseUntil, now = ARGV[2], ARGV[3], ARGV[4]
local available = false
if ARGV[5] ~= '' then available = cjson.decode(ARGV[5]) end

local queues
if ARGV[6] == '*' then
  queues = redis.call('SMEMBERS', K_QUEUES)
else
  queues = {}
  for i = 7, #ARGV do queues[#queues + 1] = ARGV[i] end
end

-- Head of each queue at its offset (offsets move past tasks that do not fit).
local offsets, heads = {}, {}
local function fetchHead(i)
  local r = redis.call('ZRANGE', queueKey(queues[i]), offsets[i], offsets[i], 'WITHSCORES')
  if r[1] then heads[i] = { r[1], tonumber(r[2]) } else heads[i] = false end
end
for i = 1, #queues do
  offsets[i] = 0
  fetchHead(i)
end

local function fits(resources)
  for name, amount in pairs(cjson.decode(resources)) do
    local free = available[name]
    if free == nil or amount > free then return false end
  end
  return true
end

for _ = 1, MAX_EXAMINED do
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
  local key = taskKey(id)
  local f = redis.call('HMGET', key, 'a', 'f', 'xa', 'rs', 'dl', 'k', 'hd')
  if f[3] and tonumber(f[3]) <= tonumber(now) then
    local t = { st = 'queued', q = queue, xa = f[3], dl = f[5], k = f[6] }
    finish(id, t, 'expired', now, false)
    if f[7] then failDependents(id, 'expired', now, {}) end
    fetchHead(best)
  elseif available and f[4] and not fits(f[4]) then
    offsets[best] = offsets[best] + 1
    fetchHead(best)
  else
    redis.call('ZREM', queueKey(queue), id)
    redis.call('HSET', key, 'st', 'running', 'w', workerId, 'a', tonumber(f[1]) + 1,
      'f', tonumber(f[2]) + 1, 'lu', leaseUntil, 'sa', now, 'p', 0)
    redis.call('HDEL', key, 'pm')
    redis.call('ZADD', K_RUNNING, leaseUntil, id)
    if f[3] then redis.call('ZREM', K_EXPIRING, id) end
    if f[5] then redis.call('ZREM', K_DEADLINES, id) end
    bump(queue, 'queued', 'running')
    return redis.call('HGETALL', key)
  end
end
return false
