-- Tasks that have not started and whose expiresAt has passed become expired
-- (dependents fail). ARGV: prefix, now, limit. Replies { { id, from, fields }, ... }.
--- @include "task"

local now, limit = ARGV[2], tonumber(ARGV[3])
local M = loadMoves()
local transitions = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_EXPIRING, '-inf', now, 'LIMIT', 0, limit)) do
  local t = M.readTask(id)
  if t and M.isNotStarted(t.st) then
    M.finish(id, t, 'expired', now, false)
    transitions[#transitions + 1] = { id, t.st }
    if t.hd then M.failDependents(id, 'expired', now, transitions) end
  else
    redis.call('ZREM', K_EXPIRING, id)
  end
end
return M.transitionsReply(transitions)
