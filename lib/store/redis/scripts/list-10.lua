-- One page of listTasks: walks the all index newest first (createdAt desc, id
-- desc) from a cursor and keeps the tasks that match the filters.
-- ARGV: prefix, cursor ("" = from the newest), state, queue, type ("" = any),
-- limit, most entries to look at. Replies { next cursor ("" = end), { fields, ... } }.
--- @include "task"

local cursor, state, queue, type = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit, scan = tonumber(ARGV[6]), tonumber(ARGV[7])
local from = '+'
if cursor ~= '' then from = '(' .. cursor end

local members = redis.call('ZREVRANGEBYLEX', K_ALL, from, '-', 'LIMIT', 0, scan)
local found, last = {}, ''
for _, member in ipairs(members) do
  last = member
  local key = taskKey(string.sub(member, 17))
  local f = redis.call('HMGET', key, 'st', 'q', 'ty')
  if f[1] and (state == '' or f[1] == state) and (queue == '' or f[2] == queue)
    and (type == '' or f[3] == type) then
    found[#found + 1] = taskFields(string.sub(member, 17))
    if #found >= limit then break end
  end
end
if #members < scan and #found < limit then last = '' end
return { last, found }
