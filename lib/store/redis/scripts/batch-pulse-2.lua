-- How far a batch is, without reading its tasks. KEYS: bh:<id>, bm:<id> (as
-- batch-read-2.lua). Replies { co, lv, how many tasks joined it } ("" =
-- absent: not announced, or no live count kept), or nil when the batch is
-- unknown.
local head = redis.call('HMGET', KEYS[1], 'ca', 'co', 'lv')
if not head[1] then return nil end
return { head[2] or '', head[3] or '', redis.call('SCARD', KEYS[2]) }
