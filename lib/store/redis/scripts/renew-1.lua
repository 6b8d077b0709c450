-- Extends a lease when the fence still holds. KEYS: the task. ARGV: prefix,
-- id, fence, leaseUntil. Replies 1, or 0 when the lease is lost. The running
-- index r:<queue> is built from the prefix: its queue is read from the task.
local f = redis.call('HMGET', KEYS[1], 'st', 'f', 'q')
if f[1] ~= 'running' or f[2] ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'lu', ARGV[4])
redis.call('ZADD', ARGV[1] .. 'r:' .. f[3], ARGV[4], ARGV[2])
return 1
