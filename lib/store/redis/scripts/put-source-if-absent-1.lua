-- Stores a source unless its id is taken, in one step (two processes adding one
-- id: exactly one stores it). KEYS: the sources hash. ARGV: id, the source's JSON.
-- Returns false when stored, the source already stored otherwise.
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return existing end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return false
