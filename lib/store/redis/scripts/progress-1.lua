-- Records progress when the fence still holds. KEYS: task.
-- ARGV: fence, fraction (already clamped), message as JSON ("null" = none).
-- Replies 1 or the error "LEASE_LOST".
local f = redis.call('HMGET', KEYS[1], 'st', 'f')
if f[1] ~= 'running' or f[2] ~= ARGV[1] then return redis.error_reply('LEASE_LOST') end
redis.call('HSET', KEYS[1], 'p', ARGV[2], 'pm', ARGV[3])
return 1
