-- Removes events older than a cutoff (by time), then the oldest (by id) beyond a
-- count. KEYS: ids, times, data. ARGV: cutoff ms, max events, limit per call.
-- Replies the number removed; the caller repeats while it reaches the limit.
local cutoff, maxEvents, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function remove(ids)
  if #ids == 0 then return 0 end
  redis.call('ZREM', KEYS[1], unpack(ids))
  redis.call('ZREM', KEYS[2], unpack(ids))
  redis.call('HDEL', KEYS[3], unpack(ids))
  return #ids
end
local removed = remove(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. cutoff, 'LIMIT', 0, limit))
local excess = redis.call('ZCARD', KEYS[1]) - maxEvents
if excess > 0 and removed < limit then
  removed = removed + remove(redis.call('ZRANGE', KEYS[1], 0, math.min(excess, limit - removed) - 1))
end
return removed
