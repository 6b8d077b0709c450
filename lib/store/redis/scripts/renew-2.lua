-- Extends a lease when the fence still holds. KEYS: task, running index.
-- ARGV: id, fence, leaseUntil. Replies 1, or 0 when the lease is lost.
local f = redis.call('HMGET', KEYS[1], 'st', 'f')
if f[1] ~= 'running' or f[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'lu', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
