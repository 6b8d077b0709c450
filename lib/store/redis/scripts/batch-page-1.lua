-- A page of a batch index, newest first. KEYS: the index (ba every batch
-- or bo the open ones by createdAt, bd the announced ones by completedAt).
-- ARGV: limit, the position the page starts after (score and id; "" for the
-- newest). Replies { id, score, id, score, ... }, at most limit + 1 of them
-- (one more than the page, so the caller knows whether more follow).
-- Equal scores are in member order, descending, as in the embedded store.
local key, limit = KEYS[1], tonumber(ARGV[1])
local start = 0
if ARGV[2] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if score and tonumber(score) == tonumber(ARGV[2]) then
    start = redis.call('ZREVRANK', key, ARGV[3]) + 1
  else
    -- Gone since (or moved): after every higher score and every equal one ranked before it.
    start = redis.call('ZCOUNT', key, '(' .. ARGV[2], '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, ARGV[2], ARGV[2])) do
      if id > ARGV[3] then start = start + 1 end
    end
  end
end
return redis.call('ZREVRANGE', key, start, start + limit, 'WITHSCORES')
