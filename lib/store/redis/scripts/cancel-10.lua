-- Cancels a live task (a running one too: its worker's fence stops working
-- because the task is no longer running). ARGV: prefix, id, now.
-- Replies { fields, { id, from, fields } of each failed dependent, ... } or the
-- errors "NOT_FOUND" / "CONFLICT <state>".
--- @include "task"

local id, now = ARGV[2], ARGV[3]
local M = loadMoves()
local t = M.readTask(id)
if not t then return redis.error_reply('NOT_FOUND') end
if M.isTerminal(t.st) then return redis.error_reply('CONFLICT ' .. t.st) end

local transitions = {}
M.finish(id, t, 'cancelled', now, false)
if t.hd then M.failDependents(id, 'cancelled', now, transitions) end
return M.reply(id, transitions)
