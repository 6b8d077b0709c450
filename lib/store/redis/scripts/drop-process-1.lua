-- Removes a run-out process record, unless the process recorded itself again
-- since it was read. KEYS: the process records. ARGV: process id, the record
-- as read. Replies 1 when removed, else 0.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
