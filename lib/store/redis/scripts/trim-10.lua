-- Removes finished tasks (older than a cutoff, then the oldest beyond a count)
-- and clears results of succeeded tasks older than a cutoff. Only terminal tasks
-- are in the finished index, so nothing live is ever removed. Batches
-- announced before the cutoff are removed too.
-- ARGV: prefix, finished cutoff (finishedAt < it goes), max finished tasks,
-- result cutoff, limit per call. Replies { tasks removed, results cleared };
-- the caller repeats while either reaches the limit.
--- @include "task"

local finishedCutoff, maxFinished, resultCutoff = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local limit = tonumber(ARGV[5])
local M = loadMoves()

local function remove(id)
  local key = taskKey(id)
  local f = redis.call('HMGET', key, 'st', 'q', 'k', 'ca')
  redis.call('ZREM', K_FINISHED, id)
  redis.call('ZREM', K_RESULTS, id)
  if f[1] then
    redis.call('ZREM', K_ALL, allMember(f[4], id))
    bump(f[2], f[1], nil)
    if f[3] and redis.call('HGET', K_NEWEST, f[3]) == id then redis.call('HDEL', K_NEWEST, f[3]) end
  end
  redis.call('DEL', key, M.dependentsKey(id))
end

local removed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_FINISHED, '-inf', '(' .. finishedCutoff, 'LIMIT', 0, limit)) do
  remove(id)
  removed = removed + 1
end
local excess = redis.call('ZCARD', K_FINISHED) - maxFinished
if excess > 0 and removed < limit then
  for _, id in ipairs(redis.call('ZRANGE', K_FINISHED, 0, math.min(excess, limit - removed) - 1)) do
    remove(id)
    removed = removed + 1
  end
end

-- Announced batches go with their tasks: those announced before the cutoff.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'bd', '-inf', '(' .. finishedCutoff, 'LIMIT', 0, limit)) do
  redis.call('DEL', P .. 'bh:' .. id, P .. 'bm:' .. id)
  redis.call('ZREM', P .. 'bd', id)
  redis.call('ZREM', P .. 'ba', id)
end

local cleared = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_RESULTS, '-inf', '(' .. resultCutoff, 'LIMIT', 0, limit)) do
  redis.call('ZREM', K_RESULTS, id)
  local key = taskKey(id)
  local r = redis.call('HGET', key, 'r')
  if r and r ~= '' then
    redis.call('HSET', key, 'r', '')
    cleared = cleared + 1
  end
end
return { removed, cleared }
