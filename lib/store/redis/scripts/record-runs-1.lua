-- Counts a run of a task type and folds its duration into an exponential moving
-- average (alpha 0.2; the first run sets it). KEYS: the type's stats hash.
-- ARGV: duration ms, ok ("1"/"0"), now.
local f = redis.call('HMGET', KEYS[1], 'runs', 'failures', 'avgMs')
local runs, failures = tonumber(f[1] or '0'), tonumber(f[2] or '0')
local duration = tonumber(ARGV[1])
local avg = duration
if f[3] then avg = tonumber(f[3]) + 0.2 * (duration - tonumber(f[3])) end
if ARGV[2] ~= '1' then failures = failures + 1 end
redis.call('HSET', KEYS[1], 'runs', runs + 1, 'failures', failures, 'avgMs', string.format('%.17g', avg),
  'updatedAt', ARGV[3])
return 1
