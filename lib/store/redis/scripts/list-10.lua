-- One page of listTasks: walks the all index newest first (createdAt desc, id
-- desc) between two lex bounds and keeps the tasks that match the filters.
-- ARGV: prefix, from (ZREVRANGEBYLEX max: "+" or "(member"), to (min: "-" or
-- "[member"), state, queue, type, key, correlationId, subject ("" = any),
-- limit, most entries to look at. Replies { next from ("" = end), { fields, ... } }.
-- Key, correlation id and subject have no index of their own (one would cost
-- every enqueue a write): the copies in the hash (k) and the static JSON (d)
-- are read, d only for tasks that passed the cheaper checks.
--- @include "task"

local from, to, state, queue, taskType = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local key, correlation, subject = ARGV[7], ARGV[8], ARGV[9]
local limit, scan = tonumber(ARGV[10]), tonumber(ARGV[11])
local needsStatic = correlation ~= '' or subject ~= ''

local function staticMatches(d)
  if not d then return false end
  local ok, fixed = pcall(cjson.decode, d)
  if not ok or type(fixed) ~= 'table' then return false end
  if correlation ~= '' and fixed.correlationId ~= correlation then return false end
  if subject ~= '' then
    local payload = fixed.payload
    local event = type(payload) == 'table' and payload.event or nil
    if type(event) ~= 'table' or event.subject ~= subject then return false end
  end
  return true
end

local members = redis.call('ZREVRANGEBYLEX', K_ALL, from, to, 'LIMIT', 0, scan)
local found, last = {}, ''
for _, member in ipairs(members) do
  last = member
  local id = string.sub(member, 17)
  local f = redis.call('HMGET', taskKey(id), 'st', 'q', 'ty', 'k')
  if f[1] and (state == '' or f[1] == state) and (queue == '' or f[2] == queue)
    and (taskType == '' or f[3] == taskType) and (key == '' or f[4] == key)
    and (not needsStatic or staticMatches(redis.call('HGET', taskKey(id), 'd'))) then
    found[#found + 1] = taskFields(id)
    if #found >= limit then break end
  end
end
if #members < scan and #found < limit then last = '' end
return { last, found }
