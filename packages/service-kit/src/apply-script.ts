import { createHash } from 'node:crypto'
import { AppError } from '@wolkvox-chat-stream/errors'

/**
 * The one script that writes a consumer's state. Everything it touches carries the partition's
 * hash tag, so it runs on a Redis Cluster. It checks everything before it writes anything: unless
 * the status is OK, nothing was written.
 */
const CORE = `--[[
apply-chunk (packages/service-kit): applies a chunk of one partition's events to a consumer's
state, atomically with the partition's applied offset and its set of applied event_ids.

KEYS[1]   wcs:{<name>.pN}:kit:meta     hash: offset, mark, epoch, cluster, topic, applied
          (events), updated_ms
KEYS[2]   wcs:{<name>.pN}:kit:events   sorted set: applied event_id -> when applied (ms)
KEYS[3]   wcs:{<name>.pN}:kit:revs     hash: event_id -> revision token '<order>|<revision>|<summary>'
          of its applied revision (services that keep revisions; trimmed with KEYS[2])
KEYS[4..] every key the recorded operations touch, once each
ARGV[1]   the service epoch the caller knows
ARGV[2]   'fresh' when the caller found no state for this partition in this epoch and feeds it
          from the partition's first offset (only then may the meta hash be missing); else the
          applied offset the caller saw stored last ('-1' for none): a lower one means Redis
          went back (a failover that lost the last writes, a restore)
ARGV[3]   how long an applied event_id is remembered, ms
ARGV[4]   the chunk's last offset: the applied offset afterwards (never lowered)
ARGV[5]   the Kafka cluster id the chunk was read from
ARGV[6]   the input topic the chunk was read from
ARGV[7]   the mark of the record at ARGV[4] (a hash of its timestamp, key and value): with the
          cluster and topic, what recognises the log this state was built from
ARGV[8]   the number of groups; then per group (its events are applied together or not at all):
            n, the lowest and highest offset of its events, then per event: its event_id ('' for
            none), the revision token the partition must hold for it ('' for a new event) and the
            token it leaves ('' when the service keeps no revisions)
            m, then m ops: command, key count k, arg count a, k indexes into KEYS, a args
            (an HINCRBY may carry several field, increment pairs: the same key's run, sent once)
Returns (nothing is written unless the status is OK):
  {'OK', {skipped group indexes}, {op errors: group index, message, ...}}  (0-based indexes)
  {'LOST'}              no meta hash and ARGV[2] ~= 'fresh': Redis lost this partition's state
  {'BEHIND', offset}    the stored applied offset is below ARGV[2]: Redis lost the last writes
  {'STALE', epoch}      the meta hash belongs to another epoch
  {'FOREIGN'}           the meta hash was built from another cluster or topic
  {'CONFLICT'}          a group of several events is partly applied already (a concurrent
                        consumer, or offsets on both sides of the stored one), or an event's
                        stored revision is not the one the caller read: filter and retry
  {'REJECTED', group index, reason, ...}  ops that cannot apply (wrong key type, unknown function)
]]
local meta = redis.call('HMGET', KEYS[1], 'offset', 'epoch', 'cluster', 'topic')
local stored = -1
if meta[2] then
  if meta[2] ~= ARGV[1] then return {'STALE', meta[2]} end
  if (meta[3] and meta[3] ~= ARGV[5]) or (meta[4] and meta[4] ~= ARGV[6]) then
    return {'FOREIGN'}
  end
  stored = tonumber(meta[1]) or -1
  if ARGV[2] ~= 'fresh' and stored < tonumber(ARGV[2]) then return {'BEHIND', stored} end
elseif ARGV[2] ~= 'fresh' then
  return {'LOST'}
end

local wants = {
  HINCRBY = 'hash', HINCRBYFLOAT = 'hash', HSET = 'hash', HSETNX = 'hash', HDEL = 'hash',
  INCRBY = 'string', INCRBYFLOAT = 'string', PFADD = 'string', SET = 'any', DEL = 'any',
  SADD = 'set', SREM = 'set', ZADD = 'zset', ZINCRBY = 'zset', ZREM = 'zset',
  RPUSH = 'list', LTRIM = 'list', PEXPIRE = 'any', LUA = 'custom'
}
local makes = {
  HINCRBY = 'hash', HINCRBYFLOAT = 'hash', HSET = 'hash', HSETNX = 'hash', INCRBY = 'string',
  INCRBYFLOAT = 'string', PFADD = 'string', SET = 'string', DEL = 'none', SADD = 'set',
  ZADD = 'zset', ZINCRBY = 'zset', RPUSH = 'list'
}
-- Lua 5.1 unpacks at most a few thousand values at once.
local SLICE = 2000

-- Parse the groups; collect every event_id for one ZMSCORE.
local groups, ids = {}, {}
local a = 9
for g = 1, tonumber(ARGV[8]) do
  local n = tonumber(ARGV[a])
  local group = { first = tonumber(ARGV[a + 1]), last = tonumber(ARGV[a + 2]), e = a + 3, n = n }
  a = a + 3 + 3 * n
  for i = 0, n - 1 do
    local id = ARGV[group.e + 3 * i]
    if id ~= '' then ids[#ids + 1] = id end
  end
  group.m = tonumber(ARGV[a])
  a = a + 1
  group.a = a
  for j = 1, group.m do
    a = a + 3 + tonumber(ARGV[a + 1]) + tonumber(ARGV[a + 2])
  end
  groups[g] = group
end
local present, revs = {}, {}
for from = 1, #ids, SLICE do
  local to = math.min(#ids, from + SLICE - 1)
  local scores = redis.call('ZMSCORE', KEYS[2], unpack(ids, from, to))
  local tokens = redis.call('HMGET', KEYS[3], unpack(ids, from, to))
  for i = from, to do
    if scores[i - from + 1] then present[ids[i]] = true end
    if tokens[i - from + 1] then revs[ids[i]] = tokens[i - from + 1] end
  end
end
-- How an event stands: 'new' to apply, 'old' applied already, 'conflict' stored revision unknown
-- to the caller. A token of '' is an event without revisions: applied once, by its id.
local function standing(id, expect, token)
  if id == '' then return 'new' end
  if token == '' then return present[id] and 'old' or 'new' end
  if expect == '' then
    if not present[id] then return 'new' end
    if revs[id] == token then return 'old' end
    return 'conflict'
  end
  if revs[id] == expect then return 'new' end
  if revs[id] == token then return 'old' end
  return 'conflict'
end

-- The type each key will have when an op of this call reaches it: '?' after a custom function.
local types = {}
local function typeOf(key)
  local t = types[key]
  if t == nil then
    t = redis.call('TYPE', key)['ok']
    types[key] = t
  end
  return t
end

local rejected, seen, applying = {}, {}, {}
for g, group in ipairs(groups) do
  local old = 0
  if group.last <= stored then
    old = group.n
  elseif group.first <= stored then
    old = -1
  else
    for i = 0, group.n - 1 do
      local e = group.e + 3 * i
      local id = ARGV[e]
      local s = seen[id] and 'old' or standing(id, ARGV[e + 1], ARGV[e + 2])
      if s == 'conflict' then return {'CONFLICT'} end
      if s == 'old' then old = old + 1 end
    end
  end
  if old == group.n then
    -- every event of the group is applied already: skip it
  elseif old ~= 0 then
    return {'CONFLICT'}
  else
    local pending, reason = {}, nil
    local o = group.a
    for j = 1, group.m do
      local cmd, k, na = ARGV[o], tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
      local want = wants[cmd]
      if want == nil then
        reason = reason or ('unknown command ' .. cmd)
      elseif want == 'custom' then
        local name = ARGV[o + 3 + k]
        if custom[name] == nil then reason = reason or ('no Lua function ' .. name) end
        for i = 1, k do pending[KEYS[tonumber(ARGV[o + 2 + i])]] = '?' end
      else
        for i = 1, k do
          local key = KEYS[tonumber(ARGV[o + 2 + i])]
          local t = pending[key] or typeOf(key)
          if want ~= 'any' and t ~= 'none' and t ~= '?' and t ~= want then
            reason = reason or (cmd .. ' needs a ' .. want .. ' but ' .. key .. ' holds a ' .. t)
          end
          if makes[cmd] then pending[key] = makes[cmd] end
        end
      end
      o = o + 3 + k + na
    end
    if reason then
      rejected[#rejected + 1] = g - 1
      rejected[#rejected + 1] = reason
    else
      applying[g] = true
      for i = 0, group.n - 1 do
        local id = ARGV[group.e + 3 * i]
        if id ~= '' then seen[id] = true end
      end
      for key, t in pairs(pending) do types[key] = t end
    end
  end
end
if #rejected > 0 then
  table.insert(rejected, 1, 'REJECTED')
  return rejected
end

local errors = {}
local function failed(reply, g)
  if type(reply) == 'table' and reply['err'] then
    errors[#errors + 1] = g - 1
    errors[#errors + 1] = reply['err']
  end
end
-- HINCRBYs commute: those of the chunk are summed per field and sent once, before any other op.
local increments, incrementKeys = {}, {}
local function flush()
  for _, key in ipairs(incrementKeys) do
    for field, e in pairs(increments[key]) do
      failed(redis.pcall('HINCRBY', key, field, string.format('%d', e[1])), e[2])
    end
  end
  increments, incrementKeys = {}, {}
end

local skipped, applied, added, tokens = {}, 0, {}, {}
for g, group in ipairs(groups) do
  if applying[g] then
    local o = group.a
    for j = 1, group.m do
      local cmd, k, na = ARGV[o], tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
      if cmd == 'HINCRBY' then
        local key = KEYS[tonumber(ARGV[o + 3])]
        local byKey = increments[key]
        if byKey == nil then
          byKey = {}
          increments[key] = byKey
          incrementKeys[#incrementKeys + 1] = key
        end
        for i = o + 4, o + 2 + na, 2 do
          local field, by = ARGV[i], tonumber(ARGV[i + 1])
          local e = byKey[field]
          if e == nil then byKey[field] = { by, g } else e[1] = e[1] + by end
        end
      else
        flush()
        local call = {}
        for i = 1, k do call[i] = KEYS[tonumber(ARGV[o + 2 + i])] end
        if cmd == 'LUA' then
          local args = {}
          for i = 2, na do args[i - 1] = ARGV[o + 2 + k + i] end
          local ok, err = pcall(custom[ARGV[o + 3 + k]], call, args)
          if not ok then
            if type(err) == 'table' then err = err['err'] end
            errors[#errors + 1] = g - 1
            errors[#errors + 1] = tostring(err)
          end
        else
          for i = 1, na do call[k + i] = ARGV[o + 2 + k + i] end
          failed(redis.pcall(cmd, unpack(call)), g)
        end
      end
      o = o + 3 + k + na
    end
    for i = 0, group.n - 1 do
      local e = group.e + 3 * i
      local id = ARGV[e]
      if id ~= '' then
        added[#added + 1] = id
        if ARGV[e + 2] ~= '' then
          tokens[#tokens + 1] = id
          tokens[#tokens + 1] = ARGV[e + 2]
        end
      end
    end
    applied = applied + group.n
  else
    skipped[#skipped + 1] = g - 1
  end
end
flush()

local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if #added > 0 then
  local stamp = string.format('%d', nowMs)
  for from = 1, #added, SLICE do
    local pairs_ = {}
    for i = from, math.min(#added, from + SLICE - 1) do
      pairs_[#pairs_ + 1] = stamp
      pairs_[#pairs_ + 1] = added[i]
    end
    redis.call('ZADD', KEYS[2], unpack(pairs_))
  end
  for from = 1, #tokens, SLICE do
    redis.call('HSET', KEYS[3], unpack(tokens, from, math.min(#tokens, from + SLICE - 1)))
  end
  local ttl = tonumber(ARGV[3])
  local cut = '(' .. string.format('%d', nowMs - ttl)
  if redis.call('EXISTS', KEYS[3]) == 1 then
    -- Revisions go with their event_ids.
    local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cut)
    for from = 1, #expired, SLICE do
      redis.call('HDEL', KEYS[3], unpack(expired, from, math.min(#expired, from + SLICE - 1)))
    end
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cut)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if tonumber(ARGV[4]) > stored then redis.call('HSET', KEYS[1], 'offset', ARGV[4], 'mark', ARGV[7]) end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'cluster', ARGV[5], 'topic', ARGV[6],
  'updated_ms', string.format('%d', nowMs))
if applied > 0 then redis.call('HINCRBY', KEYS[1], 'applied', applied) end
return {'OK', skipped, errors}
`

const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/** The Lua text and SHA-1 of the apply script with the service's own functions. */
export interface ApplyScript {
  readonly lua: string
  readonly sha: string
  readonly functions: ReadonlySet<string>
}

/**
 * Builds the apply script: `custom` maps a function name to a Lua body that sees its own `KEYS` and
 * `ARGV` (what `ctx.state.lua(name, keys, args)` passed) and runs inside the same script, so it is
 * atomic with the offset. Each body should open with a header comment documenting its KEYS and
 * ARGV, like every script of the project.
 *
 * @throws AppError `CONSUMER_OPTIONS_INVALID` for a name that is not a Lua identifier.
 */
export function buildApplyScript(custom: Readonly<Record<string, string>> = {}): ApplyScript {
  const lines = ['local custom = {}']
  for (const [name, body] of Object.entries(custom)) {
    if (!FUNCTION_NAME.test(name)) {
      throw new AppError(
        'CONSUMER_OPTIONS_INVALID',
        `Lua function name ${JSON.stringify(name)} is not an identifier`,
        { details: { name } },
      )
    }
    lines.push(`custom['${name}'] = function(KEYS, ARGV)\n${body}\nend`)
  }
  // The header stays first so the script reads as documented in SCRIPT/SLOWLOG output.
  const [header, rest] = splitHeader(CORE)
  const lua = `${header}\n${lines.join('\n')}\n${rest}`
  return {
    lua,
    sha: createHash('sha1').update(lua).digest('hex'),
    functions: new Set(Object.keys(custom)),
  }
}

function splitHeader(script: string): [string, string] {
  const end = script.indexOf(']]') + 2
  return [script.slice(0, end), script.slice(end + 1)]
}

/** What one run of the apply script did. */
export type ApplyResult =
  | { status: 'OK'; skipped: number[]; opErrors: { group: number; error: string }[] }
  | { status: 'LOST' }
  | { status: 'BEHIND'; offset: number }
  | { status: 'STALE'; epoch: string }
  | { status: 'FOREIGN' }
  | { status: 'CONFLICT' }
  | { status: 'REJECTED'; rejected: { group: number; reason: string }[] }

/** Reads the script's reply. @throws AppError `REDIS_COMMAND_FAILED` for anything else. */
export function parseApplyReply(reply: unknown): ApplyResult {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw unexpected(reply)
  const list = reply as unknown[]
  const pairs = <T>(
    items: unknown[],
    from: number,
    make: (index: number, text: string) => T,
  ): T[] => {
    const out: T[] = []
    for (let i = from; i + 1 < items.length; i += 2) {
      out.push(make(Number(items[i]), String(items[i + 1])))
    }
    return out
  }
  const array = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [])
  switch (list[0]) {
    case 'OK':
      return {
        status: 'OK',
        skipped: array(list[1]).map(Number),
        opErrors: pairs(array(list[2]), 0, (group, error) => ({ group, error })),
      }
    case 'LOST':
      return { status: 'LOST' }
    case 'BEHIND':
      return { status: 'BEHIND', offset: Number(list[1]) }
    case 'STALE':
      return { status: 'STALE', epoch: String(list[1]) }
    case 'FOREIGN':
      return { status: 'FOREIGN' }
    case 'CONFLICT':
      return { status: 'CONFLICT' }
    case 'REJECTED':
      return {
        status: 'REJECTED',
        rejected: pairs(list, 1, (group, reason) => ({ group, reason })),
      }
    default:
      throw unexpected(reply)
  }
}

function unexpected(reply: unknown): AppError {
  return new AppError('REDIS_COMMAND_FAILED', 'The apply script returned an unexpected reply', {
    details: { reply: JSON.stringify(reply)?.slice(0, 200) },
  })
}
