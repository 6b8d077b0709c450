-- Removes the oldest entries of the event log (a stream, see
-- lib/store/redis/events.ts) while their newest event is older than a cutoff,
-- or while what stays still holds at least `max events`; a batch appended
-- together goes whole. KEYS: stream, event count. ARGV: cutoff ms, max events,
-- most bytes of entries to read per call (entries hold whole batches, so a call
-- is bounded by what it reads, not by entries). Replies { events removed,
-- 1 when done / 0 when the caller should call again }.
local cutoff, maxEvents, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- The count drifts when a key is deleted by hand. Too low: each entry holds
-- at least one event, so the entry count bounds it from below. Too high: it
-- is reset once the stream is empty.
local total = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('XLEN', KEYS[1]))
local removed, last, read, done, from = 0, nil, 0, false, '-'
while not done and read < budget do
  local page = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 10)
  if #page < 10 then done = true end
  for _, entry in ipairs(page) do
    -- An entry of an earlier version (no `n`, no `ms`) counts as one event of
    -- the time it was appended.
    local fields, count, newest = entry[2], 1, tonumber(string.match(entry[1], '^(%d+)'))
    for i = 1, #fields, 2 do
      read = read + #fields[i + 1]
      if fields[i] == 'n' then count = tonumber(fields[i + 1]) or 1
      elseif fields[i] == 'ms' then newest = tonumber(fields[i + 1]) or newest end
    end
    if newest >= cutoff and total - removed - count < maxEvents then
      done = true
      break
    end
    removed = removed + count
    last = entry[1]
  end
  if last then from = '(' .. last end
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
return { removed, done and 1 or 0 }
