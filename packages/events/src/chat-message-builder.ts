import { nestedDeeperThan } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { chatMessageRevision } from './chat-message-revision.js'
import { eventId } from './event-id.js'
import type { ChatMessage, Sender, Sentiment } from './records.js'
import { assertTimeZone, upstreamDateToEpochMs } from './zoned-time.js'

/** Where and when a chat was polled: the context every event of the chat carries. */
export interface PollContext {
  /** The operation's server code, exact (`0010`). */
  server: string
  /** The report polled; `chat_2` by default. */
  report?: string
  /** IANA zone in which the upstream `date` is wall-clock time (`America/Bogota`). */
  zone: string
  /** The poll window, both ends inclusive. */
  window: { start: Date; end: Date }
  /** When the response was received. */
  polledAt: Date
}

/** An upstream row that cannot become an event; the poller sends `raw` to its dead-letter topic. */
export interface RejectedRow {
  /** `conn_id` as text when the chat has one, else `null`. */
  conn_id: string | null
  /** Index in the chat's `conversation` array, or `null` when the whole chat is rejected. */
  position: number | null
  /** The upstream JSON value: the message, or the chat when the chat itself is broken. */
  raw: unknown
  /** `EVENT_UPSTREAM_ROW_INVALID`, naming the field. */
  error: AppError
}

/** The events of one upstream chat, and the rows that could not become events. */
export interface ChatBuildResult {
  events: ChatMessage[]
  rejected: RejectedRow[]
}

const CHAT_FIELDS = new Set(['conn_id', 'agent_name', 'customer_name', 'conversation'])
const MESSAGE_FIELDS = [
  'channel',
  'from',
  'from_name',
  'to_name',
  'date',
  'message',
  'customer_id',
] as const
const OPTIONAL_MESSAGE_FIELDS = ['feeling', 'customer_phone'] as const
const KNOWN_MESSAGE_FIELDS = new Set<string>([...MESSAGE_FIELDS, ...OPTIONAL_MESSAGE_FIELDS])
const SENTIMENTS = new Set<string>([
  'very_negative',
  'negative',
  'neutral',
  'positive',
  'very_positive',
])
const BOT_SPELLINGS = new Set(['bot', 'chat bot', 'chatbot'])

/** `fn` remembered per argument (bounded): upstream values such as `from` repeat endlessly. */
function remembered<T>(fn: (value: string) => T): (value: string) => T {
  const cache = new Map<string, T>()
  return (value) => {
    let result = cache.get(value)
    if (result === undefined) {
      result = fn(value)
      if (cache.size >= 10_000) cache.clear()
      cache.set(value, result)
    }
    return result
  }
}

const botSpelling = remembered(isBotSpelling)
const upperTrimmed = remembered((value) => value.trim().toUpperCase())
const channelOf = remembered(normalizeChannel)
const knownSentimentOf = remembered(sentimentOf)

/** Upstream values are strings; anything else is kept as its JSON text. */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The deepest a chat may nest arrays and objects: the chat is level 1, a message level 3. Deeper
 * rows are refused: `JSON.stringify`, which turns values into text here and rows into dead letters
 * in the poller, overflows the stack near 4,000 levels, which a 10 KB response reaches.
 */
const MAX_DEPTH = 64

/** `value` with what nests deeper than `levels` replaced by a note: JSON that can be written. */
function clipped(value: unknown, levels: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (levels <= 0) return `[nested more than ${MAX_DEPTH} levels deep]`
  if (Array.isArray(value)) return value.map((item) => clipped(item, levels - 1))
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, clipped(item, levels - 1)]),
  )
}

/** A rejected row's `raw`: the value itself, or {@link clipped} when it nests too deeply. */
const rawOf = (value: unknown, levels: number): unknown =>
  nestedDeeperThan(value, levels) ? clipped(value, levels) : value

const optionalText = (value: unknown): string | null =>
  value === undefined || value === null ? null : asText(value)

/** The identity of a message for its occurrence count, and how many times it was seen. */
interface Identity {
  from: string | null
  fromName: string | null
  message: string | null
  count: number
}

/**
 * The 0-based occurrence of `message` among the chat's earlier messages with the same date, from,
 * from_name and message, recording it in `seen` (grouped by date: a chat's messages rarely share
 * a second, so the long texts are seldom compared).
 */
function countOccurrence(
  seen: Map<string | null, Identity[]>,
  message: Record<string, unknown>,
): number {
  const date = optionalText(message.date)
  const from = optionalText(message.from)
  const fromName = optionalText(message.from_name)
  const text = optionalText(message.message)
  let sameDate = seen.get(date)
  if (sameDate === undefined) seen.set(date, (sameDate = []))
  for (const identity of sameDate) {
    if (identity.from === from && identity.fromName === fromName && identity.message === text) {
      return identity.count++
    }
  }
  sameDate.push({ from, fromName, message: text, count: 1 })
  return 0
}

/** `channel` trimmed and lower-cased; unknown values kept. */
export function normalizeChannel(channel: string): string {
  return channel.trim().toLowerCase()
}

/** Whether a `from` or `from_name` names the bot: `BOT`, `chat bot`, `chat_bot`, `Chat-Bot`, … */
export function isBotSpelling(value: string): boolean {
  return BOT_SPELLINGS.has(
    value
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, ' '),
  )
}

/** `sender` from an upstream `from` and `from_name` (bot spellings first, then CUSTOMER/AGENT). */
export function senderOf(from: string, fromName: string): Sender {
  if (botSpelling(from) || botSpelling(fromName)) return 'bot'
  switch (upperTrimmed(from)) {
    case 'CUSTOMER':
      return 'customer'
    case 'AGENT':
      return 'agent'
    default:
      return 'other'
  }
}

/** `sentiment` from an upstream `feeling`: `Very Negative` -> `very_negative`, else `unknown`. */
export function sentimentOf(feeling: string | null): Sentiment {
  if (feeling === null) return 'unknown'
  const key = feeling.trim().toLowerCase().replace(/\s+/g, '_')
  return SENTIMENTS.has(key) ? (key as Sentiment) : 'unknown'
}

/** The first chat-level field that keeps a whole chat from becoming events, and why. */
/** A chat's identity and messages, or the first reason it cannot give events at all. */
type ChatShape =
  { ok: true; connId: string; conversation: unknown[] } | { ok: false; field: string; why: string }

function chatShape(chat: Record<string, unknown>, connId: string | null): ChatShape {
  if (connId === null) return { ok: false, field: 'conn_id', why: 'A chat has no conn_id' }
  const conversation = chat.conversation
  if (!Array.isArray(conversation)) {
    return { ok: false, field: 'conversation', why: `Chat ${connId} has no conversation array` }
  }
  for (const field of ['agent_name', 'customer_name']) {
    if (chat[field] === undefined || chat[field] === null) {
      return { ok: false, field, why: `Chat ${connId} has no ${field}` }
    }
  }
  return { ok: true, connId, conversation }
}

function invalid(why: string, field: string, conn_id: string | null, position: number | null) {
  return new AppError('EVENT_UPSTREAM_ROW_INVALID', why, {
    details: { field, conn_id, position },
  })
}

/**
 * Turns one upstream `chat_2` chat into its `ChatMessage` (v2) events, one per element of
 * `conversation`, with every normalisation of ARCHITECTURE.md (ChatMessage v1) and a `revision`.
 * Never throws for bad data: a chat or message that cannot become an event is returned in
 * `rejected`, with its raw JSON, and the others still become events.
 *
 * A row is rejected when `conn_id` or a documented message field (`channel`, `from`, `from_name`,
 * `to_name`, `date`, `message`, `customer_id`) is absent or null, since the event could not hold
 * it exactly, or when `date` is not a real `YYYY-MM-DD HH:MM:SS`. A whole chat is rejected (one row,
 * the chat's JSON) when it is not an object or its `conn_id`, `agent_name`, `customer_name` or
 * `conversation` array is absent or null, or when the chat nests arrays and objects more than 64
 * levels deep (a message: that message only; its `raw` is then cut at that depth). `occurrence`
 * counts every earlier message of the chat, rejected ones included (but for one nested too deeply).
 * `revision` is {@link chatMessageRevision} of the event's fields.
 *
 * @throws AppError `EVENT_TIME_ZONE_INVALID` when `context.zone` is unknown (a configuration bug).
 */
export function buildChatMessages(chat: unknown, context: PollContext): ChatBuildResult {
  assertTimeZone(context.zone)
  const report = context.report ?? 'chat_2'
  const events: ChatMessage[] = []
  const rejected: RejectedRow[] = []

  if (!isObject(chat)) {
    const error = invalid('A chat is not a JSON object', 'chat', null, null)
    const raw = rawOf(chat, MAX_DEPTH)
    return { events, rejected: [{ conn_id: null, position: null, raw, error }] }
  }
  const deepField = Object.keys(chat).find(
    (key) => key !== 'conversation' && nestedDeeperThan(chat[key], MAX_DEPTH - 1),
  )
  if (deepField !== undefined) {
    // conn_id may nest too deep as well, even when another field was found first.
    const connId =
      chat.conn_id === undefined ||
      chat.conn_id === null ||
      nestedDeeperThan(chat.conn_id, MAX_DEPTH - 1)
        ? null
        : asText(chat.conn_id)
    const why = `Chat ${connId ?? '(no conn_id)'}: ${deepField} nests more than ${MAX_DEPTH} levels`
    const error = invalid(why, deepField, connId, null)
    const raw = rawOf(chat, MAX_DEPTH)
    return { events, rejected: [{ conn_id: connId, position: null, raw, error }] }
  }
  const givenId = chat.conn_id === undefined || chat.conn_id === null ? null : asText(chat.conn_id)
  const shape = chatShape(chat, givenId)
  if (!shape.ok) {
    const error = invalid(shape.why, shape.field, givenId, null)
    const raw = rawOf(chat, MAX_DEPTH)
    return { events, rejected: [{ conn_id: givenId, position: null, raw, error }] }
  }
  const { connId, conversation } = shape
  const agentName = asText(chat.agent_name)
  const customerName = asText(chat.customer_name)

  const chatExtra: [string, string][] = []
  for (const [key, value] of Object.entries(chat)) {
    if (!CHAT_FIELDS.has(key)) chatExtra.push([`chat.${key}`, asText(value)])
  }
  // Earlier messages of the chat by date, to count a message's occurrence: messages with the same
  // date, from, from_name and message (absent or null read as null, other values as their text).
  const seen = new Map<string | null, Identity[]>()
  const reject = (position: number, raw: unknown, why: string, field: string): void => {
    rejected.push({
      conn_id: connId,
      position,
      raw: rawOf(raw, MAX_DEPTH - 2),
      error: invalid(`Chat ${connId}, message ${position}: ${why}`, field, connId, position),
    })
  }

  for (let position = 0; position < conversation.length; position++) {
    const message = conversation[position]
    if (!isObject(message)) {
      reject(position, message, 'not a JSON object', 'conversation')
      continue
    }
    if (nestedDeeperThan(message, MAX_DEPTH - 2)) {
      // Not counted for occurrences: its fields have no text to compare.
      reject(position, message, `nests more than ${MAX_DEPTH} levels`, 'conversation')
      continue
    }
    // Counted over every message, rejected or not, so that an occurrence never depends on
    // whether an unrelated field of an earlier message was present.
    const occurrence = countOccurrence(seen, message)
    let missing: string | undefined
    for (const field of MESSAGE_FIELDS) {
      if (message[field] === undefined || message[field] === null) {
        missing = field
        break
      }
    }
    if (missing !== undefined) {
      reject(position, message, `no ${missing}`, missing)
      continue
    }
    const date = asText(message.date)
    const sentAt = upstreamDateToEpochMs(date, context.zone)
    if (sentAt === undefined) {
      reject(position, message, 'date is not YYYY-MM-DD HH:MM:SS', 'date')
      continue
    }
    const channel = asText(message.channel)
    const from = asText(message.from)
    const fromName = asText(message.from_name)
    const text = asText(message.message)
    const toName = asText(message.to_name)
    const customerId = asText(message.customer_id)
    const feeling = optionalText(message.feeling)
    const customerPhone = optionalText(message.customer_phone)

    // A null prototype, so that an upstream key such as "__proto__" stays a plain key.
    const extra: Record<string, string> = Object.create(null) as Record<string, string>
    for (const [key, value] of chatExtra) extra[key] = value
    for (const key of Object.keys(message)) {
      if (!KNOWN_MESSAGE_FIELDS.has(key)) extra[key] = asText(message[key])
    }

    events.push({
      event_id: eventId({
        server: context.server,
        report,
        conn_id: connId,
        date,
        from,
        from_name: fromName,
        message: text,
        occurrence,
      }),
      revision: chatMessageRevision({
        agent_name: agentName,
        customer_name: customerName,
        channel,
        to_name: toName,
        customer_id: customerId,
        feeling,
        customer_phone: customerPhone,
        extra,
      }),
      server: context.server,
      report,
      conn_id: connId,
      agent_name: agentName,
      customer_name: customerName,
      channel,
      from,
      from_name: fromName,
      to_name: toName,
      date,
      message: text,
      customer_id: customerId,
      feeling,
      customer_phone: customerPhone,
      sent_at: new Date(sentAt),
      position,
      conversation_length: conversation.length,
      channel_normalized: channelOf(channel),
      sender: senderOf(from, fromName),
      sentiment: feeling === null ? 'unknown' : knownSentimentOf(feeling),
      extra,
      polled_at: context.polledAt,
      window_start: context.window.start,
      window_end: context.window.end,
    })
  }
  return { events, rejected }
}
