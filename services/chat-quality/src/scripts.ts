/*
 * Lua of the quality service. The apply script's `conversation` function is the kit's
 * (conversationScript, `ch` = JSON of the first message's channel and agent name); `record` runs
 * on the service's own connection once a record is on the output topic, on keys of one partition
 * (one hash tag), and checks before it writes. README: How state is kept.
 */
import { parseMember, type ServiceKeys } from '@wolkvox-chat-stream/service-kit'
import { paths } from './queries.js'

export { conversationScript } from '@wolkvox-chat-stream/service-kit'

/** Run by the emitter once a ChatQuality record is on the output topic. */
export const recordScript = `--[[
record (chat-quality): stores what was emitted for a conversation, moves its counters to the
fields of its new figures and stores its FCR entry, only if the conversation is still as it was
read.

KEYS[1]  the conversation hash (eh, eat, cv, ca, cf, fe are written here)
KEYS[2]  the partition's pending sorted set
KEYS[3]  the agent hash of the new figures: '<tag>|<start>|<metric>' -> conversations
KEYS[4]  the agent hash counted so far, or KEYS[3] again
KEYS[5]  the operation's names hash: agent key -> '<earliest started_at ms>|<agent name>'
KEYS[6]  the partition's kit meta hash
KEYS[7]  the operation's FCR entries: conn_id -> entry; KEYS[8] their start times (sorted set)
ARGV[1]  'server|conn_id'
ARGV[2]  n (changes) as read; ARGV[3] cf (fields counted) as read, '' for none
ARGV[4]  the emitted content fingerprint; ARGV[5] computed_at ms; ARGV[6] the rules version
ARGV[7]  the new agent key; ARGV[8] the new fields, space-separated
ARGV[9]  the service's epoch
ARGV[10] the agent name; ARGV[11] the conversation's started_at ms
ARGV[12] the FCR entry (JSON); ARGV[13] the conn_id
Returns 1 recorded, 0 changed since read (nothing written), -1 the partition's state belongs to
another epoch (nothing written).
]]
if redis.call('HGET', KEYS[6], 'epoch') ~= ARGV[9] then return -1 end
local c = redis.call('HMGET', KEYS[1], 'n', 'cf', 'ca')
if (c[1] or '') ~= ARGV[2] or (c[2] or '') ~= ARGV[3] then return 0 end
if c[2] ~= ARGV[8] or c[3] ~= ARGV[7] then
  if c[2] then
    for field in string.gmatch(c[2], '%S+') do
      if redis.call('HINCRBY', KEYS[4], field, -1) <= 0 then redis.call('HDEL', KEYS[4], field) end
    end
  end
  for field in string.gmatch(ARGV[8], '%S+') do redis.call('HINCRBY', KEYS[3], field, 1) end
end
redis.call('HSET', KEYS[1], 'eh', ARGV[4], 'eat', ARGV[5], 'cv', ARGV[6], 'ca', ARGV[7],
  'cf', ARGV[8], 'fe', ARGV[12])
redis.call('HSET', KEYS[7], ARGV[13], ARGV[12])
redis.call('ZADD', KEYS[8], ARGV[11], ARGV[13])
redis.call('ZREM', KEYS[2], ARGV[1])
local name = redis.call('HGET', KEYS[5], ARGV[7])
local ms = tonumber(ARGV[11])
if not name then
  redis.call('HSET', KEYS[5], ARGV[7], ARGV[11] .. '|' .. ARGV[10])
else
  local bar = string.find(name, '|', 1, true)
  local seen = tonumber(string.sub(name, 1, bar - 1))
  if ms < seen or (ms == seen and ARGV[10] < string.sub(name, bar + 1)) then
    redis.call('HSET', KEYS[5], ARGV[7], ARGV[11] .. '|' .. ARGV[10])
  end
end
return 1
`

/**
 * The KEYS of {@link recordScript} for `member` of `partition`, counted under `agentKey` and so far
 * under `countedAgentKey`: every one in the partition's hash tag, so the script runs on a cluster.
 */
export function recordScriptKeys(
  keys: ServiceKeys,
  partition: number,
  member: string,
  agentKey: string,
  countedAgentKey: string,
): string[] {
  const { server, connId } = parseMember(member)
  return [
    keys.state(partition, paths.conversation(server, connId)),
    keys.state(partition, paths.pending),
    keys.state(partition, paths.agent(server, agentKey)),
    keys.state(partition, paths.agent(server, countedAgentKey)),
    keys.state(partition, paths.names(server)),
    keys.meta(partition),
    keys.state(partition, paths.fcr(server)),
    keys.state(partition, paths.fcrStarts(server)),
  ]
}
