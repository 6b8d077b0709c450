-- One page of the event log, oldest first, after an id.
-- KEYS: log (see lib/store/redis/events.ts). ARGV: after ("" = from the start), count.
-- Replies { id, JSON, id, JSON, ... }.
-- Members are "<id>|<time ms>|<JSON>"; every member of the id `after` sorts
-- below "<after>}" ('}' follows '|'), and every later id above it.
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] .. '}' end
local members = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, member in ipairs(members) do
  local idEnd = string.find(member, '|', 1, true)
  local timeEnd = string.find(member, '|', idEnd + 1, true)
  out[#out + 1] = string.sub(member, 1, idEnd - 1)
  out[#out + 1] = string.sub(member, timeEnd + 1)
end
return out
