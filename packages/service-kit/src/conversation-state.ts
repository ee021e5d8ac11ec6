/*
 * The state of one conversation in a service that emits one record per conversation (see
 * conversation-emitter.ts): its hash, and the member (`server|conn_id`) that names it in the
 * partition's dirty hash and pending set, and keys its records.
 */
import type { KeyPath } from './keys.js'

/** The record key and state member of a conversation: `server|conn_id`. */
export const memberOf = (server: string, connId: string): string => `${server}|${connId}`

/** Splits a member at its first `|` (a server code is digits). */
export function parseMember(member: string): { server: string; connId: string } {
  const bar = member.indexOf('|')
  return { server: member.slice(0, bar), connId: member.slice(bar + 1) }
}

/**
 * The apply-script function (register it as `conversation`) of a service that keeps one hash per
 * conversation and emits one record per conversation with the conversation emitter: the trámite
 * classifier (`ch` = the channel) and chat quality (`ch` = JSON of the channel and agent name).
 */
export const conversationScript = `--[[
conversation (packages/service-kit): merges one conversation's messages of a batch into its state.

KEYS[1]  the conversation hash: first, fpos, ch (the first message's sent_at ms, position and
         what the service keeps of it), pub (latest publish ms), done ('1' once complete), v (the
         rules version of the latest batch), n (changes), 'm:<event_id>' (what the service keeps
         of a message); the emitter's fields (eh, eat, ...) are not touched
KEYS[2]  the partition's dirty hash: 'server|conn_id' -> batches the emitter has not looked at
KEYS[3]  the partition's pending sorted set: chats neither complete nor emitted, by publish ms
ARGV[1]  'server|conn_id'
ARGV[2]  the batch's first message: sent_at ms; ARGV[3] its position; ARGV[4] what is kept of it
ARGV[5]  the latest record timestamp (publish ms) among the batch's messages
ARGV[6]  '1' when the batch holds a message with position = conversation_length - 1
ARGV[7]  the rules version that matched the batch's messages
ARGV[8]  '1' when the batch's first message is a newer revision of one applied before: the same
         message (same sent_at and position) then gives the conversation its ch again
ARGV[9…] pairs: 'm:<event_id>', what is kept of the message
Returns nothing; writes only after every read.
]]
local c = redis.call('HMGET', KEYS[1], 'first', 'fpos', 'pub', 'done', 'eh')
local fields = {'v', ARGV[7]}
local function add(field, value)
  fields[#fields + 1] = field
  fields[#fields + 1] = value
end
local first, fpos = tonumber(c[1]), tonumber(c[2])
local ms, pos = tonumber(ARGV[2]), tonumber(ARGV[3])
if first == nil or ms < first or (ms == first and pos < fpos)
  or (ARGV[8] == '1' and ms == first and pos == fpos) then
  add('first', ARGV[2])
  add('fpos', ARGV[3])
  add('ch', ARGV[4])
end
local pub = c[3]
if pub == false or tonumber(ARGV[5]) > tonumber(pub) then
  pub = ARGV[5]
  add('pub', pub)
end
local done = c[4] == '1' or ARGV[6] == '1'
if done then add('done', '1') end
for i = 9, #ARGV, 2 do add(ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HINCRBY', KEYS[1], 'n', 1)
if done then
  redis.call('ZREM', KEYS[3], ARGV[1])
elseif not c[5] then
  redis.call('ZADD', KEYS[3], pub, ARGV[1])
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
`

/** What a conversation service keeps of the messages of a batch (see {@link recordConversations}). */
export interface ConversationKeeping<T> {
  /** What the conversation keeps of its first message (`ch`): the channel, or more as JSON. */
  first(event: T): string
  /** What it keeps of a message (`m:<event_id>`); undefined keeps nothing. */
  message(event: T): string | undefined
  /** The rules version the messages were read with (`v`). */
  version: string
}

/** The fields of a ChatMessage {@link recordConversations} reads. */
export interface ConversationEvent {
  event_id: string
  server: string
  conn_id: string
  sent_at: Date
  position: number
  conversation_length: number
}

/**
 * Records what a batch of fresh events changes, one {@link conversationScript} call per
 * conversation (pure apart from `state`). A message that is a newer revision of one applied before
 * may give its conversation its first-message values again.
 */
export function recordConversations<T extends ConversationEvent>(
  events: readonly {
    event: T
    timestamp: string
    previous?: unknown
  }[],
  state: { lua(name: string, keys: readonly KeyPath[], args: readonly (string | number)[]): void },
  paths: {
    conversation(server: string, connId: string): KeyPath
    dirty: KeyPath
    pending: KeyPath
  },
  keep: ConversationKeeping<T>,
): void {
  const conversations = new Map<
    string,
    {
      server: string
      connId: string
      firstMs: number
      firstPosition: number
      first: string
      /** The first message is a newer revision of one applied before: its values replace. */
      firstCorrected: boolean
      publishedMs: number
      complete: boolean
      kept: string[]
    }
  >()
  for (const { event, timestamp, previous } of events) {
    const member = memberOf(event.server, event.conn_id)
    const ms = event.sent_at.getTime()
    let c = conversations.get(member)
    if (c === undefined) {
      c = {
        server: event.server,
        connId: event.conn_id,
        firstMs: ms,
        firstPosition: event.position,
        first: keep.first(event),
        firstCorrected: previous !== undefined,
        publishedMs: 0,
        complete: false,
        kept: [],
      }
      conversations.set(member, c)
    } else if (ms < c.firstMs || (ms === c.firstMs && event.position < c.firstPosition)) {
      c.firstMs = ms
      c.firstPosition = event.position
      c.first = keep.first(event)
      c.firstCorrected = previous !== undefined
    }
    c.publishedMs = Math.max(c.publishedMs, Number(timestamp) || 0)
    if (event.position === event.conversation_length - 1) c.complete = true
    const kept = keep.message(event)
    if (kept !== undefined) c.kept.push(`m:${event.event_id}`, kept)
  }
  for (const [member, c] of conversations) {
    state.lua(
      'conversation',
      [paths.conversation(c.server, c.connId), paths.dirty, paths.pending],
      [
        member,
        c.firstMs,
        c.firstPosition,
        c.first,
        c.publishedMs,
        c.complete ? '1' : '0',
        keep.version,
        c.firstCorrected ? '1' : '0',
        ...c.kept,
      ],
    )
  }
}
