-- Counts one matching event of a sampled hook, for every process at once, and
-- says whether it fires (every ARGV[2]-th since the last fire, which starts the
-- count again). A hook that is no longer stored counts nothing (no count is left
-- behind a delete). KEYS: the hooks hash, the sample counts' hash. ARGV: id,
-- every. Returns 1 to fire, else 0.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local count = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if count < tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], 0)
return 1
