-- Takes or renews a named lease. KEYS: the lease hash (holder, until, fence).
-- ARGV: holder, until (now + ttl), now. The fence counts holder changes
-- (starts at 1) and stays when the lease is freed, so a new holder always gets
-- a bigger one. Replies the fence, or nil when another holder has it.
local f = redis.call('HMGET', KEYS[1], 'holder', 'until', 'fence')
local holder, now = ARGV[1], tonumber(ARGV[3])
if f[1] and f[1] ~= holder and tonumber(f[2]) > now then return false end
local fence = tonumber(f[3] or '0')
if f[1] ~= holder then fence = fence + 1 end
redis.call('HSET', KEYS[1], 'holder', holder, 'until', ARGV[2], 'fence', fence)
return fence
