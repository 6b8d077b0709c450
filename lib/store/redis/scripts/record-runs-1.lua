-- Adds a batch of runs of a task type to its counts and moves the exponential
-- moving average of run time toward the batch's mean by the batch's weight
-- (1 - 0.8^runs, computed by the caller: alpha 0.2 once per run; the first batch
-- sets it). KEYS: the type's stats hash.
-- ARGV: runs, failures, mean ms, weight, now.
local runs = tonumber(ARGV[1])
if not runs or runs < 1 then return 0 end
local mean = tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'runs', 'failures', 'avgMs')
local avg = mean
if f[3] then avg = tonumber(f[3]) + tonumber(ARGV[4]) * (mean - tonumber(f[3])) end
redis.call('HSET', KEYS[1], 'runs', tonumber(f[1] or '0') + runs,
  'failures', tonumber(f[2] or '0') + tonumber(ARGV[2]), 'avgMs', string.format('%.17g', avg),
  'updatedAt', ARGV[5])
return 1
