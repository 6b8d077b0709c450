-- One command over many arguments, sent in chunks within what Lua's unpack
-- takes at once: a redis.call costs several times what one more argument in
-- it does, so batch scripts gather what a key needs and send it in one go.
-- The chunk is even, so score/member pairs never split.
local VARIADIC_CHUNK = 1000

local function variadic(command, key, args)
  for i = 1, #args, VARIADIC_CHUNK do
    redis.call(command, key, unpack(args, i, math.min(i + VARIADIC_CHUNK - 1, #args)))
  end
end
