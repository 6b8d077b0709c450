-- Checks this Redis's epoch: the value written once, on first use, that
-- only a loss of data (a restart without AOF or RDB, FLUSHALL, a failover to
-- an empty replica) takes away or replaces.
-- KEYS: the epoch, the reset marker.
-- ARGV: the epoch this process knew ("" at its start), a fresh epoch to
-- write when there is none, the time now (ISO).
-- When the process knew another epoch, the data it knew is gone: the marker
-- records that once per new epoch (the first process to see it writes it;
-- the others find it), so every process, and those that start later, report
-- the same loss until an operator acknowledges it (ack-reset-2.lua).
-- Replies {epoch, marker JSON or "", 1 when this call wrote the marker}.
local known, fresh, now = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], fresh)
  current = fresh
end
local marker = redis.call('GET', KEYS[2])
local wrote = 0
if known ~= '' and current ~= known then
  local ok, reset = pcall(cjson.decode, marker or '')
  if not ok or type(reset) ~= 'table' or reset.epoch ~= current then
    marker = cjson.encode({ epoch = current, at = now, previous = known })
    redis.call('SET', KEYS[2], marker)
    wrote = 1
  end
end
return { current, marker or '', wrote }
