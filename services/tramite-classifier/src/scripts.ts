/*
 * Lua of the classifier. `conversation` runs inside the kit's apply script, atomically with the
 * partition's offset; the others run on the classifier's own connection, each on keys of one
 * partition (one hash tag), and check before they write. README: How state is kept.
 */
import type { ServiceKeys } from '@wolkvox-chat-stream/service-kit'
import { parseMember } from './conversation.js'
import { paths } from './queries.js'

/** The key of the conversation `member` (`server|conn_id`) in `partition`. */
export function conversationKey(keys: ServiceKeys, partition: number, member: string): string {
  const { server, connId } = parseMember(member)
  return keys.state(partition, paths.conversation(server, connId))
}

/**
 * Registered as `conversation` (the kit's apply script): the kit's conversation state script, with
 * the first message's channel as its `ch`.
 */
export { conversationScript } from '@wolkvox-chat-stream/service-kit'

/** Run by the emitter once a classification is on the output topic. */
export const recordScript = `--[[
record (tramite-classifier): stores what was emitted for a conversation and moves its count to the
bucket of its new classification, only if the conversation is still as it was read.

KEYS[1]  the conversation hash
KEYS[2]  the partition's pending sorted set
KEYS[3]  the counts hash of (server, the new rules version): '[day, channel, tramite]' -> count
KEYS[4]  the counts hash of (server, the version counted so far), or KEYS[3] again
KEYS[5]  the partition's kit meta hash
ARGV[1]  'server|conn_id'
ARGV[2]  n (changes) as read; ARGV[3] cv (version counted) as read, '' for none
ARGV[4]  the emitted content fingerprint; ARGV[5] classified_at ms
ARGV[6]  the new rules version; ARGV[7] the new count field
ARGV[8]  the service's epoch
Returns 1 recorded, 0 changed since read (nothing written), -1 the partition's state belongs to
another epoch (nothing written).
]]
if redis.call('HGET', KEYS[5], 'epoch') ~= ARGV[8] then return -1 end
local c = redis.call('HMGET', KEYS[1], 'n', 'cv', 'cf')
if (c[1] or '') ~= ARGV[2] or (c[2] or '') ~= ARGV[3] then return 0 end
if c[3] ~= ARGV[7] or c[2] ~= ARGV[6] then
  if c[3] then
    if redis.call('HINCRBY', KEYS[4], c[3], -1) <= 0 then redis.call('HDEL', KEYS[4], c[3]) end
  end
  redis.call('HINCRBY', KEYS[3], ARGV[7], 1)
end
redis.call('HSET', KEYS[1], 'eh', ARGV[4], 'eat', ARGV[5], 'cv', ARGV[6], 'cf', ARGV[7])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`

/**
 * The KEYS of {@link recordScript} for `member` of `partition`, counted under `version` and so far
 * under `countedVersion`: every one in the partition's hash tag, so the script runs on a cluster.
 */
export function recordScriptKeys(
  keys: ServiceKeys,
  partition: number,
  member: string,
  version: string,
  countedVersion: string,
): string[] {
  const { server } = parseMember(member)
  return [
    conversationKey(keys, partition, member),
    keys.state(partition, paths.pending),
    keys.state(partition, paths.counts(server, version)),
    keys.state(partition, paths.counts(server, countedVersion)),
    keys.meta(partition),
  ]
}

/** The KEYS of {@link rematchScript} for `member` of `partition` (one hash tag). */
export function rematchScriptKeys(keys: ServiceKeys, partition: number, member: string): string[] {
  return [conversationKey(keys, partition, member), keys.meta(partition)]
}

/** Run by reclassify: the matches of the messages it read, found again with the rules in force. */
export const rematchScript = `--[[
rematch (tramite-classifier reclassify): replaces the matches of the given messages of a
conversation, only if the conversation is still as it was read.

KEYS[1]  the conversation hash
KEYS[2]  the partition's kit meta hash
ARGV[1]  the service's epoch; ARGV[2] n (changes) as read; ARGV[3] the rules version
ARGV[4…] pairs: 'm:<event_id>', the message's matches (JSON), or '' when none counted
Returns 1 written, 0 changed since read (nothing written), -1 the partition's state belongs to
another epoch (nothing written).
]]
if redis.call('HGET', KEYS[2], 'epoch') ~= ARGV[1] then return -1 end
if (redis.call('HGET', KEYS[1], 'n') or '') ~= ARGV[2] then return 0 end
local set = {'v', ARGV[3]}
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
  end
end
redis.call('HSET', KEYS[1], unpack(set))
redis.call('HINCRBY', KEYS[1], 'n', 1)
return 1
`
