-- An operator acknowledges the loss of data the reset marker records
-- (`un store ack-reset`): the marker of the current epoch gets `ackedAt`, so
-- every process stops reporting it at its next heartbeat. The marker stays,
-- so a process that comes back later with an older epoch still sees the loss
-- as acknowledged rather than raising it again.
-- KEYS: the epoch, the reset marker. ARGV: the time now (ISO).
-- Replies {epoch or "", the acknowledged marker JSON, or "" when no loss
-- waited for an acknowledgement}.
local current = redis.call('GET', KEYS[1])
local marker = redis.call('GET', KEYS[2])
if not current or not marker then return { current or '', '' } end
local ok, reset = pcall(cjson.decode, marker)
if not ok or type(reset) ~= 'table' or reset.epoch ~= current or reset.ackedAt then
  return { current, '' }
end
reset.ackedAt = ARGV[1]
marker = cjson.encode(reset)
redis.call('SET', KEYS[2], marker)
return { current, marker }
