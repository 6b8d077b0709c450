-- Removes the oldest entries of the event log (a stream, see
-- lib/store/redis/events.ts) while their newest event is older than a cutoff,
-- or while what stays still holds at least `max events`; a batch appended
-- together goes whole. KEYS: stream, event count. ARGV: cutoff ms, max events,
-- entries looked at per call. Replies { events removed, entries looked at };
-- the caller repeats while a call looked at the limit and removed something.
local cutoff, maxEvents, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- The count can only drift high (a stream deleted by hand): each entry holds
-- at least one event, so the entry count bounds it from below.
local entries = redis.call('XLEN', KEYS[1])
local total = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), entries)
local removed, last = 0, nil
local page = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', limit)
for _, entry in ipairs(page) do
  local fields, count, newest = entry[2], 1, 0
  for i = 1, #fields, 2 do
    if fields[i] == 'n' then count = tonumber(fields[i + 1]) or 1
    elseif fields[i] == 'ms' then newest = tonumber(fields[i + 1]) or 0 end
  end
  if newest >= cutoff and total - removed - count < maxEvents then break end
  removed = removed + count
  last = entry[1]
end
if last then
  -- MINID drops the ids below it: the one right after the last to go.
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. string.format('%d', tonumber(seq) + 1))
end
if redis.call('XLEN', KEYS[1]) == 0 then
  redis.call('SET', KEYS[2], 0)
else
  redis.call('SET', KEYS[2], total - removed)
end
return { removed, #page }
