-- Completes and claims for a batch of worker calls, one after the other,
-- exactly as separate calls would run. The client coalesces the calls its
-- workers make at the same moment (an attempt ends with a complete and the
-- claim of the next task, as BullMQ's moveToFinished does), so one script run
-- and one round trip serve them all.
-- ARGV: prefix, then per call either
--   "c", id, fence, result JSON ("" = null), now, known ("1"/"0"): a complete;
--   "l", workerId, leaseUntil, now, available resources JSON ("" = no limit),
--   number of queues (-1 = every queue), the queue names: a claim.
-- Replies one entry per call, in order (see includes/complete.lua and
-- includes/claim.lua).
--- @include "task"
--- @include "complete"
--- @include "claim"

local replies = {}
local everyQueue
local c = 2
while c <= #ARGV do
  if ARGV[c] == 'c' then
    replies[#replies + 1] = completeOne(ARGV[c + 1], ARGV[c + 2], ARGV[c + 3], ARGV[c + 4], ARGV[c + 5])
    c = c + 6
  else
    workerId, leaseUntil, now = ARGV[c + 1], ARGV[c + 2], ARGV[c + 3]
    nowNumber = tonumber(now)
    available = false
    if ARGV[c + 4] ~= '' then available = cjson.decode(ARGV[c + 4]) end
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
    replies[#replies + 1] = claimOne(queues)
  end
end
flushLater()
return replies
