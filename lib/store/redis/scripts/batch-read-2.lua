-- Reads a batch. KEYS: bh:<id> (ca createdAt, pa parentId, co completedAt),
-- bm:<id> (its task ids). ARGV: prefix, optionally how many tasks to count at
-- most (a listing's bound; when it holds more, that many of them at random).
-- Replies { ca, pa, co, partial, state, progress, state, progress, ... } over
-- its tasks still stored ("" = absent, partial "1" when tasks went uncounted),
-- or nil when the batch is unknown.
local head = redis.call('HMGET', KEYS[1], 'ca', 'pa', 'co')
if not head[1] then return nil end
local cap = tonumber(ARGV[2] or '')
local ids, partial
if cap and redis.call('SCARD', KEYS[2]) > cap then
  ids, partial = redis.call('SRANDMEMBER', KEYS[2], cap), '1'
else
  ids, partial = redis.call('SMEMBERS', KEYS[2]), ''
end
local out = { head[1], head[2] or '', head[3] or '', partial }
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ARGV[1] .. 't:' .. id, 'st', 'p')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or '0'
  end
end
return out
