-- Bounded queues (inlined by enqueue): the client appends, after the tasks,
-- the number of bounded queues the batch touches, then queue, maxSize pairs.
-- A queue's size is ZCARD q:<queue> plus its scheduled and retrying counters,
-- all kept already by every state change, so the check costs three reads per
-- bounded queue and nothing for a batch without bounds.

-- The bounds from ARGV[at] on; nil when there are none.
local function readBounds(at)
  local n = tonumber(ARGV[at] or '0')
  if n == 0 then return nil end
  local bounds = {}
  for i = 1, n do bounds[ARGV[at + 2 * i - 1]] = tonumber(ARGV[at + 2 * i]) end
  return bounds
end

-- `adding`: queue -> number of new tasks that count against its bound. An
-- error reply naming the first queue it would take past its bound, else nil.
local function queueFull(bounds, adding)
  for q, n in pairs(adding) do
    local max = bounds[q]
    if max then
      local pending = redis.call('HMGET', K_COUNTS, 'scheduled|' .. q, 'retrying|' .. q)
      local size = redis.call('ZCARD', queueKey(q)) + tonumber(pending[1] or '0') + tonumber(pending[2] or '0')
      if size + n > max then
        return redis.error_reply('QUEUE_FULL ' .. cjson.encode({ queue = q, size = size, maxSize = max }))
      end
    end
  end
  return nil
end
