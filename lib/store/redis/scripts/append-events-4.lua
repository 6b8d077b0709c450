-- Appends events to the log, ignoring ids already stored (idempotent), and
-- mirrors the new ones to the bridge in the same step: one stream entry for
-- the whole batch and one PUBLISH per run of events of one type and origin.
-- A retried write therefore reaches neither the stream nor pub/sub twice.
-- KEYS: ids (ZSET, score 0, ordered by id), times (ZSET by time ms),
--       data (HASH id -> JSON), stream (the bridge's event stream).
-- ARGV: stream MAXLEN ("" = no mirror: `redis.events` is off), consumer group,
--       channel prefix, then per event: id, time ms, JSON, type, origin.
-- Stream entry fields: t = the batch's distinct types joined by "\n" (a
-- consumer skips entries no hook wants without parsing them), e = JSON array
-- of the events. Pub/sub message: origin, "\n", JSON array of the run.
-- Replies the number of new events.
local maxLen, group, channels = ARGV[1], ARGV[2], ARGV[3]
local new = {}
for i = 4, #ARGV, 5 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 2]) == 1 then
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    new[#new + 1] = i
  end
end
if maxLen == '' or #new == 0 then return #new end

-- The group must exist before the first entry, or its hooks would be skipped.
if redis.call('EXISTS', KEYS[4]) == 0 then
  redis.pcall('XGROUP', 'CREATE', KEYS[4], group, '$', 'MKSTREAM')
end
local jsons, types, seen = {}, {}, {}
for k, i in ipairs(new) do
  jsons[k] = ARGV[i + 2]
  local ty = ARGV[i + 3]
  if not seen[ty] then
    seen[ty] = true
    types[#types + 1] = ty
  end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxLen, '*',
  't', table.concat(types, '\n'), 'e', '[' .. table.concat(jsons, ',') .. ']')

local first = 1
for k = 1, #new do
  local i, j = new[k], new[k + 1]
  if not j or ARGV[j + 3] ~= ARGV[i + 3] or ARGV[j + 4] ~= ARGV[i + 4] then
    redis.call('PUBLISH', channels .. ARGV[i + 3],
      ARGV[i + 4] .. '\n[' .. table.concat(jsons, ',', first, k) .. ']')
    first = k + 1
  end
end
return #new
