-- Records progress when the fence still holds. KEYS: task.
-- ARGV: fence, fraction (already clamped), message ("" = null when ARGV[4] is "0").
-- Replies 1 or the error "LEASE_LOST".
local f = redis.call('HMGET', KEYS[1], 'st', 'f')
if f[1] ~= 'running' or f[2] ~= ARGV[1] then return redis.error_reply('LEASE_LOST') end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'p', ARGV[2], 'pm', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'p', ARGV[2])
  redis.call('HDEL', KEYS[1], 'pm')
end
return 1
