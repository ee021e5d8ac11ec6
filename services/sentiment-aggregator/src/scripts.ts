/*
 * Lua functions run inside the kit's apply script, atomically with the partition's offset: they
 * read the conversation's stored state to decide what moves (README: Semantics).
 */

/**
 * Registered as `batch`: one call per chunk for all its conversations and agent names, so Redis
 * runs one function instead of one per conversation, and every count it moves is summed first.
 */
export const batchScript = `--[[
batch (sentiment-aggregator): merges a chunk's conversations and agent display names into their
stored state. Each conversation's "conversations" and "conversations ending negative" counts move
to the windows of its latest message; an agent keeps its earliest display name.

KEYS[1]   the partition's dirty hash: 'server|agent_key|granularity|start ms' -> changes
KEYS[2..] the names, window and conversation hashes the entries below point to (KEYS indexes):
          names hash: agent_key -> '<sent_at ms, 15 digits>|<display name>'
          agent's window hash: '<h|d|t>|<start ms>|<metric>' -> count
          conversation hash: last (ms), lh, ld (hour and day window starts of the last message),
          lcm, lcp (last customer message: sent_at ms, position), lcn ('1' negative), done ('1')
ARGV      n, then n name entries of 3: names hash, agent_key, the chunk's earliest candidate
          (same form; string order is time order, then name order)
          m, then m conversation entries of 11: conversation hash, agent's window hash,
          'server|agent_key|' (the dirty member prefix), the chunk's latest sent_at (ms) and its
          hour and day window starts, the chunk's last customer message sent_at (ms) or '' for
          none, its position, '1' when it is negative or very_negative, '1' when the chunk holds a
          message with position = conversation_length - 1, '1' when that last customer message is
          a newer revision of one applied before (then it replaces the stored one's feeling when
          it is the same message: same sent_at and position)
Returns nothing; reads everything before it writes. The counts it moves are summed per field and
written with one HINCRBY each (a zero sum is not written), every changed window marked dirty once.
]]
local n = tonumber(ARGV[1])
local m = tonumber(ARGV[2 + 3 * n])
local names, convs = {}, {}
for i = 0, n - 1 do
  local a = 2 + 3 * i
  names[i + 1] = redis.call('HGET', KEYS[tonumber(ARGV[a])], ARGV[a + 1])
end
local base = 3 + 3 * n
for i = 0, m - 1 do
  local a = base + 11 * i
  convs[i + 1] = redis.call('HMGET', KEYS[tonumber(ARGV[a])], 'last', 'lh', 'ld', 'lcm', 'lcp', 'lcn', 'done')
end

for i = 0, n - 1 do
  local a = 2 + 3 * i
  local current = names[i + 1]
  if not current or ARGV[a + 2] < current then
    redis.call('HSET', KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2])
  end
end

local sums, keys, dirty = {}, {}, {}
local function bump(key, tag, start, metric, by)
  local fields = sums[key]
  if fields == nil then
    fields = {}
    sums[key] = fields
    keys[#keys + 1] = key
  end
  local field = tag .. '|' .. start .. '|' .. metric
  fields[field] = (fields[field] or 0) + by
end
for i = 0, m - 1 do
  local a = base + 11 * i
  local c = convs[i + 1]
  local key, prefix = KEYS[tonumber(ARGV[a + 1])], ARGV[a + 2]
  local oldLast, oldH, oldD = tonumber(c[1]), c[2], c[3]
  local oldFlag = c[7] == '1' and c[6] == '1'
  local last, h, d = oldLast, oldH, oldD
  local bMs = tonumber(ARGV[a + 3])
  if oldLast == nil or bMs > oldLast then last, h, d = bMs, ARGV[a + 4], ARGV[a + 5] end
  local lcm, lcp, lcn = tonumber(c[4]), tonumber(c[5]), c[6]
  if ARGV[a + 6] ~= '' then
    local cm, cp = tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
    local same = cm == lcm and cp == lcp
    if lcm == nil or cm > lcm or (cm == lcm and cp > lcp) or (same and ARGV[a + 10] == '1') then
      lcm, lcp, lcn = cm, cp, ARGV[a + 8]
    end
  end
  local done = (c[7] == '1' or ARGV[a + 9] == '1') and '1' or '0'
  local flag = done == '1' and lcn == '1'
  if oldLast == nil then bump(key, 't', '0', 'conv', 1) end
  if oldFlag ~= flag then bump(key, 't', '0', 'neg', flag and 1 or -1) end
  if oldLast == nil or h ~= oldH or d ~= oldD or oldFlag ~= flag then
    if oldLast ~= nil then
      bump(key, 'h', oldH, 'conv', -1)
      bump(key, 'd', oldD, 'conv', -1)
      if oldFlag then
        bump(key, 'h', oldH, 'neg', -1)
        bump(key, 'd', oldD, 'neg', -1)
      end
      dirty[prefix .. 'hour|' .. oldH] = true
      dirty[prefix .. 'day|' .. oldD] = true
    end
    bump(key, 'h', h, 'conv', 1)
    bump(key, 'd', d, 'conv', 1)
    if flag then
      bump(key, 'h', h, 'neg', 1)
      bump(key, 'd', d, 'neg', 1)
    end
    dirty[prefix .. 'hour|' .. h] = true
    dirty[prefix .. 'day|' .. d] = true
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
  redis.call('HSET', KEYS[tonumber(ARGV[a])], unpack(fields))
end
for _, key in ipairs(keys) do
  for field, by in pairs(sums[key]) do
    if by ~= 0 then redis.call('HINCRBY', key, field, by) end
  end
end
for member in pairs(dirty) do redis.call('HINCRBY', KEYS[1], member, 1) end
`
