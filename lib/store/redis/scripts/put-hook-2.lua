-- Stores a hook (created or changed) and starts its sample count again, in one
-- step. KEYS: the hooks hash, the sample counts' hash. ARGV: id, the hook's JSON.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
