-- Removes events older than a cutoff (by time), then the oldest (by id) beyond a
-- count. KEYS: log (see lib/store/redis/events.ts). ARGV: cutoff ms, max events,
-- limit per call. Replies the number removed; the caller repeats while it
-- reaches the limit.
-- By age, the oldest ids go while their time is before the cutoff: ids and
-- times of events grow together, so the first recent one ends the run.
local cutoff, maxEvents, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local old = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, limit - 1)) do
  local idEnd = string.find(member, '|', 1, true)
  local timeEnd = string.find(member, '|', idEnd + 1, true)
  if tonumber(string.sub(member, idEnd + 1, timeEnd - 1)) >= cutoff then break end
  old = old + 1
end
if old > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, old - 1) end
local removed = old
local excess = redis.call('ZCARD', KEYS[1]) - maxEvents
if excess > 0 and removed < limit then
  local more = math.min(excess, limit - removed)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, more - 1)
  removed = removed + more
end
return removed
