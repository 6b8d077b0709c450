-- One page of the event log, oldest first, after an id.
-- KEYS: ids, times, data (see append-events-4.lua). ARGV: after ("" = from the
-- start), count. Replies { id, JSON, id, JSON, ... }.
local from = '-'
if ARGV[1] ~= '' then from = '(' .. ARGV[1] end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {} end
local data = redis.call('HMGET', KEYS[3], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  if data[i] then
    out[#out + 1] = id
    out[#out + 1] = data[i]
  end
end
return out
