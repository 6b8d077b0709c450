-- Writes a subscription only if it is still as the caller read it (compare and
-- set), so a change made in between (another process, a delivery's outcome) is
-- never overwritten. KEYS: the subscriptions hash. ARGV: id, the JSON as read,
-- the new JSON. Returns 1 when written, 0 when it changed meanwhile (read it
-- again), -1 when it is gone.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
