-- Adds a batch of runs of a task type to its counts and moves the exponential
-- moving average of run time toward the batch's mean by the batch's weight
-- (1 - 0.8^runs, computed by the caller: alpha 0.2 once per run; the first batch
-- sets it). The learned model's weighted sums (w, wf, ls, lq: runs, failures,
-- sum of ln ms and of its square) decay by 0.5 per half-life since updatedAt,
-- then gain the batch (Store.recordRuns, modelAfter in task-store.ts).
-- KEYS: the type's stats hash.
-- ARGV: runs, failures, mean ms, weight, now, sum ln ms, sum ln^2 ms, half-life ms.
local runs = tonumber(ARGV[1])
if not runs or runs < 1 then return 0 end
local mean = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
local f = redis.call('HMGET', KEYS[1], 'runs', 'failures', 'avgMs', 'updatedAt', 'w', 'wf', 'ls', 'lq')
local avg = mean
if f[3] then avg = tonumber(f[3]) + tonumber(ARGV[4]) * (mean - tonumber(f[3])) end
local w, wf, ls, lq = runs, tonumber(ARGV[2]), tonumber(ARGV[6]), tonumber(ARGV[7])
if f[1] then
  local ow, owf, ols, olq = tonumber(f[5]), tonumber(f[6]), tonumber(f[7]), tonumber(f[8])
  if not ow then
    -- A hash from before the model: every run alike, at the moving average.
    local l = math.log(math.max(0.1, tonumber(f[3])))
    ow, owf, ols, olq = tonumber(f[1]), tonumber(f[2]), tonumber(f[1]) * l, tonumber(f[1]) * l * l
  end
  local d = 1
  local half = tonumber(ARGV[8])
  local elapsed = now - tonumber(f[4] or ARGV[5])
  if half > 0 and elapsed > 0 then d = 0.5 ^ (elapsed / half) end
  w, wf, ls, lq = ow * d + w, owf * d + wf, ols * d + ls, olq * d + lq
end
local g = function(x) return string.format('%.17g', x) end
redis.call('HSET', KEYS[1], 'runs', tonumber(f[1] or '0') + runs,
  'failures', tonumber(f[2] or '0') + tonumber(ARGV[2]), 'avgMs', g(avg),
  'updatedAt', ARGV[5], 'w', g(w), 'wf', g(wf), 'ls', g(ls), 'lq', g(lq))
return 1
