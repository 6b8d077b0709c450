-- Frees a named lease when the caller holds it. KEYS: the lease hash. ARGV: holder.
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'holder', 'until')
  return 1
end
return 0
