-- Marks running tasks succeeded, for a batch of complete calls one after the
-- other (the client coalesces completes made at the same moment into one call).
-- ARGV: prefix, then per call: id, fence, result JSON ("" = null), now.
-- Replies, per call, the error "LEASE_LOST" when the caller no longer holds the
-- lease (fence), else { { d, m, a, pm, e, ra, ea, sa, w, dp }, { id, from,
-- fields } of each released dependent, ... } (the rest of the task is known
-- from the call).
--- @include "task"

local function completeOne(id, fence, result, now)
  local key = taskKey(id)
  local f = redis.call('HMGET', key, 'st', 'f', 'q', 'k', 'hd', 'd', 'm', 'a', 'pm', 'e', 'ra', 'ea', 'sa', 'w',
    'dp')
  if f[1] ~= 'running' or f[2] ~= fence then return redis.error_reply('LEASE_LOST') end

  redis.call('HSET', key, 'st', 'succeeded', 'p', 1, 'fa', now, 'r', result, 'lu', '')
  if result ~= '' then redis.call('ZADD', K_RESULTS, now, id) end
  redis.call('ZREM', runningKey(f[3]), id)
  redis.call('ZADD', K_FINISHED, now, id)
  bump(f[3], 'running', 'succeeded')

  local reply = { { f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15] } }
  if f[4] or f[5] then
    local M = loadMoves()
    M.releaseKey(id, f[4])
    if f[5] then
      local transitions = {}
      M.releaseDependents(id, now, transitions)
      for _, tr in ipairs(M.transitionsReply(transitions)) do reply[#reply + 1] = tr end
    end
  end
  return reply
end

local replies = {}
for c = 2, #ARGV, 4 do
  replies[#replies + 1] = completeOne(ARGV[c], ARGV[c + 1], ARGV[c + 2], ARGV[c + 3])
end
return replies
