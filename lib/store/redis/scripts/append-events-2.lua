-- Appends events to the log, ignoring ids already stored (idempotent), and
-- mirrors the new ones to the bridge in the same step: one stream entry for
-- the whole batch and one PUBLISH per run of events of one type and origin.
-- A retried write therefore reaches neither the stream nor pub/sub twice.
-- KEYS: log (ZSET, every score 0, members "<id>|<time ms>|<JSON>", so they
--       sort by id and a page is one ZRANGEBYLEX), stream (the bridge's stream).
-- ARGV: stream MAXLEN ("" = no mirror: `redis.events` is off), consumer group,
--       channel prefix, then per event: id, time ms, JSON, type, origin.
-- Stream entry fields: t = the batch's distinct types joined by "\n" (a
-- consumer skips entries no hook wants without parsing them), e = JSON array
-- of the events. Pub/sub message: origin, "\n", JSON array of the run.
-- Replies the number of new events. The batch is checked (ZMSCORE) and added
-- (ZADD) in one variadic command each (see includes/variadic.lua).
--- @include "variadic"

local maxLen, group, channels = ARGV[1], ARGV[2], ARGV[3]

-- Event argument offsets and log members, in order.
local all, members = {}, {}
for i = 4, #ARGV, 5 do
  all[#all + 1] = i
  members[#members + 1] = ARGV[i] .. '|' .. ARGV[i + 1] .. '|' .. ARGV[i + 2]
end
if #all == 0 then return 0 end

-- New: not in the log yet, and not earlier in this batch.
local new, adds, seenIds = {}, {}, {}
for c = 1, #members, VARIADIC_CHUNK do
  local last = math.min(c + VARIADIC_CHUNK - 1, #members)
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(members, c, last))
  for k = c, last do
    local id = ARGV[all[k]]
    if not scores[k - c + 1] and not seenIds[id] then
      seenIds[id] = true
      new[#new + 1] = all[k]
      adds[#adds + 1] = 0
      adds[#adds + 1] = members[k]
    end
  end
end
if #new == 0 then return 0 end
variadic('ZADD', KEYS[1], adds)
if maxLen == '' then return #new end

-- The group must exist before the first entry, or its hooks would be skipped.
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.pcall('XGROUP', 'CREATE', KEYS[2], group, '$', 'MKSTREAM')
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
redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxLen, '*',
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
