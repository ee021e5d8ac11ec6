/*
 * Lua functions run inside the kit's apply script, atomically with the partition's offset: they
 * read the conversation's stored state to decide what moves (README: Semantics).
 */

/** Registered as `conversation`. */
export const conversationScript = `--[[
conversation (sentiment-aggregator): merges one conversation's batch into its stored state and
moves its "conversations" and "conversations ending negative" counts to the windows of its latest
message.

KEYS[1]  conversation hash: last (ms), lh, ld (hour and day window starts of the last message),
         lcm, lcp (last customer message: sent_at ms, position), lcn ('1' negative), done ('1')
KEYS[2]  the agent's window hash: '<h|d|t>|<start ms>|<metric>' -> count
KEYS[3]  the partition's dirty hash: 'server|agent_key|granularity|start ms' -> changes
ARGV[1]  'server|agent_key|' (the dirty member prefix)
ARGV[2]  the batch's latest sent_at (ms); ARGV[3], ARGV[4] its hour and day window starts
ARGV[5]  the batch's last customer message sent_at (ms) or '' for none; ARGV[6] its position;
         ARGV[7] '1' when it is negative or very_negative
ARGV[8]  '1' when the batch holds a message with position = conversation_length - 1
Returns nothing; writes only after every read.
]]
local c = redis.call('HMGET', KEYS[1], 'last', 'lh', 'ld', 'lcm', 'lcp', 'lcn', 'done')
local oldLast, oldH, oldD = tonumber(c[1]), c[2], c[3]
local oldFlag = c[7] == '1' and c[6] == '1'
local last, h, d = oldLast, oldH, oldD
local bMs = tonumber(ARGV[2])
if oldLast == nil or bMs > oldLast then last, h, d = bMs, ARGV[3], ARGV[4] end
local lcm, lcp, lcn = tonumber(c[4]), tonumber(c[5]), c[6]
if ARGV[5] ~= '' then
  local m, p = tonumber(ARGV[5]), tonumber(ARGV[6])
  if lcm == nil or m > lcm or (m == lcm and p > lcp) then lcm, lcp, lcn = m, p, ARGV[7] end
end
local done = (c[7] == '1' or ARGV[8] == '1') and '1' or '0'
local flag = done == '1' and lcn == '1'
local function bump(tag, start, metric, by)
  redis.call('HINCRBY', KEYS[2], tag .. '|' .. start .. '|' .. metric, by)
end
local function dirty(granularity, start)
  redis.call('HINCRBY', KEYS[3], ARGV[1] .. granularity .. '|' .. start, 1)
end
if oldLast == nil then bump('t', '0', 'conv', 1) end
if oldFlag ~= flag then bump('t', '0', 'neg', flag and 1 or -1) end
if oldLast == nil or h ~= oldH or d ~= oldD or oldFlag ~= flag then
  if oldLast ~= nil then
    bump('h', oldH, 'conv', -1)
    bump('d', oldD, 'conv', -1)
    if oldFlag then
      bump('h', oldH, 'neg', -1)
      bump('d', oldD, 'neg', -1)
    end
    dirty('hour', oldH)
    dirty('day', oldD)
  end
  bump('h', h, 'conv', 1)
  bump('d', d, 'conv', 1)
  if flag then
    bump('h', h, 'neg', 1)
    bump('d', d, 'neg', 1)
  end
  dirty('hour', h)
  dirty('day', d)
end
local fields = {'last', string.format('%d', last), 'lh', h, 'ld', d, 'done', done}
if lcm ~= nil then
  fields[#fields + 1] = 'lcm'
  fields[#fields + 1] = string.format('%d', lcm)
  fields[#fields + 1] = 'lcp'
  fields[#fields + 1] = string.format('%d', lcp)
  fields[#fields + 1] = 'lcn'
  fields[#fields + 1] = lcn
end
redis.call('HSET', KEYS[1], unpack(fields))
`

/** Registered as `agentName`. */
export const agentNameScript = `--[[
agentName (sentiment-aggregator): keeps the earliest display name of an agent in this partition.

KEYS[1]  the operation's names hash: agent_key -> '<sent_at ms, 15 digits>|<display name>'
ARGV[1]  agent_key
ARGV[2]  the batch's candidate, same form (string order is time order, then name order)
Returns nothing.
]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or ARGV[2] < current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
`

/**
 * Deletes a dirty member only if its change count is still the one the emitter read, so a change
 * that lands meanwhile stays dirty (run on the service's own connection, outside the apply script).
 */
export const clearDirtyScript = `--[[
clear-dirty (sentiment-aggregator): HDEL each field whose value is still the one read.

KEYS[1]  the partition's dirty hash
ARGV     field, value, field, value, ...
Returns the number of fields deleted.
]]
local deleted = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return deleted
`
