-- Appends events, ignoring ids already stored (idempotent).
-- KEYS: ids (ZSET, score 0, ordered by id), times (ZSET by time ms), data (HASH id -> JSON).
-- ARGV: id, time ms, JSON, repeated. Replies the number of new events.
local added = 0
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 2]) == 1 then
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    added = added + 1
  end
end
return added
