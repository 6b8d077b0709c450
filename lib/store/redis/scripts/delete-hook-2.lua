-- Removes a hook with its sample count, in one step. KEYS: the hooks hash, the
-- sample counts' hash. ARGV: id. Returns 1 when the hook existed, else 0.
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
