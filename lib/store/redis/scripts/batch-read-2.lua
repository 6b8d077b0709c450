-- Reads a batch. KEYS: bh:<id> (ca createdAt, pa parentId, co completedAt),
-- bm:<id> (its task ids). ARGV: prefix.
-- Replies { ca, pa, co, state, progress, state, progress, ... } over its
-- tasks still stored ("" = absent), or nil when the batch is unknown.
local head = redis.call('HMGET', KEYS[1], 'ca', 'pa', 'co')
if not head[1] then return nil end
local out = { head[1], head[2] or '', head[3] or '' }
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local f = redis.call('HMGET', ARGV[1] .. 't:' .. id, 'st', 'p')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or '0'
  end
end
return out
