-- A complete (inlined into complete-claim-10.lua): marks a running task
-- succeeded. `known` is "1" when the caller still has the task as it claimed
-- it (then only the progress message can differ, so only that comes back).
-- Its reply: the error "LEASE_LOST" when the caller no longer holds the
-- lease (fence), else { { pm } or { pm, d, m, a, e, ra, ea, sa, w, dp },
-- { id, from, fields } of each released dependent, ... } (the rest of the task
-- is known from the call).
-- The very same call again (same fence, result and now) finds its own success
-- and gets it back, without dependents: ioredis resends a command whose reply
-- a dropped connection lost, and the first run may have been applied.

local function completeOne(id, fence, result, now, known)
  local key = taskKey(id)
  local f = redis.call('HMGET', key, 'st', 'f', 'q', 'k', 'hd', 'pm', 'fa', 'r', 'b')
  local replayed = f[1] == 'succeeded' and f[2] == fence and f[7] == now and (f[8] or '') == result
  if not replayed and (f[1] ~= 'running' or f[2] ~= fence) then
    return redis.error_reply('LEASE_LOST')
  end

  local task = { f[6] }
  if known ~= '1' then
    local more = redis.call('HMGET', key, 'd', 'm', 'a', 'e', 'ra', 'ea', 'sa', 'w', 'dp')
    for i = 1, 9 do task[i + 1] = more[i] end
  end
  if replayed then return { task } end

  redis.call('HSET', key, 'st', 'succeeded', 'p', '1', 'fa', now, 'r', result, 'lu', '')
  if result ~= '' then zaddLater(K_RESULTS, now, id) end
  zremLater(runningKey(f[3]), id)
  zaddLater(K_FINISHED, now, id)
  bumpLater(f[3], 'running', 'succeeded')
  if f[9] then batchLive(id, f[9], -1) end

  local reply = { task }
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
