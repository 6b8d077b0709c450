-- Completes and claims for a batch of worker calls, one after the other,
-- exactly as separate calls would run. The client coalesces the calls its
-- workers make at the same moment (an attempt ends with a complete and the
-- claim of the next task, as BullMQ's moveToFinished does), so one script run
-- and one round trip serve them all.
-- ARGV: prefix, then per call either
--   "c", id, fence, result JSON ("" = null), now, known ("1"/"0"): a complete;
--   "l", workerId, leaseUntil, now, budget ("" = no limit, "#n" = the n-th
--   budget of this run), number of queues (-1 = every queue), the queue
--   names: a claim;
-- or a budget the claims after it may name (no call, no reply):
--   "b", free resources JSON, capacity JSON ("" = none). Claims naming the
--   same budget share it: each takes from what the ones before it left.
-- Replies one entry per call, in order (see includes/complete.lua and
-- includes/claim.lua).
--- @include "task"
--- @include "complete"
--- @include "queue-gate"
--- @include "claim"

local replies = {}
local budgets = {}
local everyQueue
local c = 2
while c <= #ARGV do
  if ARGV[c] == 'c' then
    replies[#replies + 1] = completeOne(ARGV[c + 1], ARGV[c + 2], ARGV[c + 3], ARGV[c + 4], ARGV[c + 5])
    c = c + 6
  elseif ARGV[c] == 'b' then
    local cap = false
    if ARGV[c + 2] ~= '' then cap = cjson.decode(ARGV[c + 2]) end
    budgets[#budgets + 1] = { free = cjson.decode(ARGV[c + 1]), cap = cap }
    c = c + 3
  else
    workerId, leaseUntil, now = ARGV[c + 1], ARGV[c + 2], ARGV[c + 3]
    nowNumber = tonumber(now)
    budget = false
    if ARGV[c + 4] ~= '' then budget = budgets[tonumber(string.sub(ARGV[c + 4], 2))] end
    local count = tonumber(ARGV[c + 5])
    local queues
    if count < 0 then
      everyQueue = everyQueue or redis.call('SMEMBERS', K_QUEUES)
      queues = everyQueue
      count = 0
    else
      queues = {}
      for i = 1, count do queues[i] = ARGV[c + 5 + i] end
    end
    c = c + 6 + count
    replies[#replies + 1] = claimOne(gateQueues(queues, nowNumber))
  end
end
flushLater()
return replies
