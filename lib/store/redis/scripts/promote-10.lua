-- Moves scheduled/retrying tasks whose runAt has come to queued (enqueuedAt and
-- sortKey unchanged). ARGV: prefix, now, limit (the caller repeats while a full
-- batch comes back). Replies { { id, from, fields }, ... }.
--- @include "task"

local now, limit = ARGV[2], tonumber(ARGV[3])
local M = loadMoves()
local transitions = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, limit)) do
  local t = M.readTask(id)
  redis.call('ZREM', K_DELAYED, id)
  if t and (t.st == 'scheduled' or t.st == 'retrying') then
    redis.call('HSET', taskKey(id), 'st', 'queued')
    redis.call('ZADD', queueKey(t.q), t.sk, id)
    bump(t.q, t.st, 'queued')
    transitions[#transitions + 1] = { id, t.st }
  end
end
return M.transitionsReply(transitions)
