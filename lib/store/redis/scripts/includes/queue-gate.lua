-- Paused queues and rate limits, checked by the claims of one script run
-- (inlined into complete-claim-10.lua before "claim"). Read once per run:
--   <prefix>queues:paused  SET   paused queue names
--   <prefix>queues:limits  HASH  queue -> "max perMs"
--   <prefix>rl:<queue>:<window>  STRING  tasks of the queue started in that
--                          window (floor(now / perMs)); expires after two windows
-- (No dollar sign in this file: the include is pasted in by String.replace.)
-- With neither (the common case) `gate` stays false and claims check nothing.

local gate = nil

local function loadGate()
  local paused = redis.call('SMEMBERS', P .. 'queues:paused')
  local limits = redis.call('HGETALL', P .. 'queues:limits')
  if #paused == 0 and #limits == 0 then
    gate = false
    return
  end
  gate = { paused = {}, limits = {} }
  for _, queue in ipairs(paused) do gate.paused[queue] = true end
  for i = 1, #limits, 2 do
    local max, perMs = string.match(limits[i + 1], '^(%d+) (%d+)')
    if max then gate.limits[limits[i]] = { max = tonumber(max), perMs = tonumber(perMs) } end
  end
end

-- The window key of a limited queue at `at` (epoch ms).
local function windowKey(queue, limit, at)
  return P .. 'rl:' .. queue .. ':' .. string.format('%d', math.floor(at / limit.perMs))
end

-- The queues a claim may take from now: paused ones and full windows left out.
local function gateQueues(queues, at)
  if gate == nil then loadGate() end
  if not gate then return queues end
  local open = {}
  for _, queue in ipairs(queues) do
    local limit = gate.limits[queue]
    if not gate.paused[queue] and
      (not limit or tonumber(redis.call('GET', windowKey(queue, limit, at)) or '0') < limit.max) then
      open[#open + 1] = queue
    end
  end
  return open
end

-- A task of `queue` started at `at`: counted in its window.
local function gateTook(queue, at)
  local limit = gate and gate.limits[queue]
  if not limit then return end
  local key = windowKey(queue, limit, at)
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, limit.perMs * 2)
end
