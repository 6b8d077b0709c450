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
-- Each structure takes the batch in one variadic command (a redis.call costs
-- far more than one more member in it), in chunks within unpack's limit.
local maxLen, group, channels = ARGV[1], ARGV[2], ARGV[3]
local CHUNK = 1000

local function variadic(command, key, args)
  for i = 1, #args, CHUNK do
    redis.call(command, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
  end
end

-- Event argument offsets, in order.
local all = {}
for i = 4, #ARGV, 5 do all[#all + 1] = i end
if #all == 0 then return 0 end

local ids = {}
for k, i in ipairs(all) do
  ids[2 * k - 1] = 0
  ids[2 * k] = ARGV[i]
end
local added = 0
for i = 1, #ids, CHUNK do
  added = added + redis.call('ZADD', KEYS[1], 'NX', unpack(ids, i, math.min(i + CHUNK - 1, #ids)))
end

-- Which are new: all of them (the common case), else those the data hash lacks.
local new = all
if added < #all then
  new = {}
  for _, i in ipairs(all) do
    if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 2]) == 1 then new[#new + 1] = i end
  end
else
  local data = {}
  for k, i in ipairs(all) do
    data[2 * k - 1] = ARGV[i]
    data[2 * k] = ARGV[i + 2]
  end
  variadic('HSET', KEYS[3], data)
end
if #new == 0 then return 0 end
local times = {}
for k, i in ipairs(new) do
  times[2 * k - 1] = ARGV[i + 1]
  times[2 * k] = ARGV[i]
end
variadic('ZADD', KEYS[2], times)
if maxLen == '' then return #new end

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
