/**
 * One message of a `chat_2` chat. Every documented field is exactly as received: a string stays as
 * it is (no trimming, no case change), any other JSON value becomes its JSON text (`12` -> `"12"`),
 * and an absent or null field is null.
 */
import { nestedDeeperThan } from '@wolkvox-chat-stream/config'
export interface ChatMessageRow {
  channel: string | null
  from: string | null
  from_name: string | null
  to_name: string | null
  /** `YYYY-MM-DD HH:MM:SS` in the operation's zone (see `wallClockToEpochMs`). */
  date: string | null
  message: string | null
  customer_id: string | null
  /** Sentiment, a paid add-on: often empty or absent. */
  feeling: string | null
  /** Sent instead of `feeling` by some tenants. */
  customer_phone: string | null
  /** Fields the contract does not name, as strings (other values as their JSON text, null as "null"). */
  extra: Record<string, string>
}

/** One `data` item of `chat_2`: a chat (conversation) and its messages. */
export interface ChatRow {
  /** Never empty. */
  conn_id: string
  agent_name: string | null
  customer_name: string | null
  /** In the order received; possibly only part of the chat (a message-time selection or the row cap). */
  conversation: ChatMessageRow[]
  /** Chat-level fields the contract does not name (see {@link ChatMessageRow.extra}). */
  extra: Record<string, string>
}

/** A `data` item that cannot be read as a row; the caller dead-letters `raw`. */
export interface InvalidRow {
  /** Its index in `data`. */
  index: number
  /** Why it was set aside (`conversation is not an array`). */
  reason: string
  /** The item's JSON text as received. */
  raw: string
}

/** Outcome of reading one `data` item. */
export type RowParse<Row> =
  { ok: true; row: Row; messageCount: number } | { ok: false; reason: string }

/** Outcome of checking one `data` item without building its row. */
export type RowCheck = { ok: true; messageCount: number } | { ok: false; reason: string }

const messageFields = [
  'channel',
  'from',
  'from_name',
  'to_name',
  'date',
  'message',
  'customer_id',
  'feeling',
  'customer_phone',
] as const
const chatFields = new Set(['conn_id', 'agent_name', 'customer_name', 'conversation'])
const knownMessageFields = new Set<string>(messageFields)

/** A string as is; absent or null as null; anything else as its JSON text. */
export function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null
  return typeof value === 'string' ? value : JSON.stringify(value)
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The deepest a `data` item may nest arrays and objects (the item itself is level 1; a chat with
 * its messages is 3). Deeper items are refused: `JSON.stringify` overflows the stack near 4,000
 * levels, which a 10 KB body reaches, and every reader of a row turns its values into JSON text.
 */
export const MAX_ITEM_DEPTH = 64

/**
 * A `data` item's JSON text, for the dead-letter topic; never throws. An item nested too deeply to
 * be written (see {@link MAX_ITEM_DEPTH}) is a JSON string saying so instead.
 */
export function itemJsonText(item: unknown): string {
  if (nestedDeeperThan(item, MAX_ITEM_DEPTH)) {
    return JSON.stringify(`[an item nested more than ${MAX_ITEM_DEPTH} levels deep]`)
  }
  return JSON.stringify(item) ?? 'undefined'
}

function extraOf(
  item: Record<string, unknown>,
  known: ReadonlySet<string>,
): Record<string, string> {
  // A null prototype, so that an upstream key such as "__proto__" stays a plain key.
  const extra: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [key, value] of Object.entries(item)) {
    if (!known.has(key)) extra[key] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return extra
}

/**
 * Checks one `chat_2` `data` item as {@link parseChat2Row} does, without building anything: a chat
 * needs a non-empty `conn_id` and a `conversation` array of objects, and may nest at most
 * {@link MAX_ITEM_DEPTH} levels.
 */
export function checkChat2Row(item: unknown): RowCheck {
  if (!isRecord(item)) return { ok: false, reason: 'item is not an object' }
  if (nestedDeeperThan(item, MAX_ITEM_DEPTH)) {
    return { ok: false, reason: `item nests more than ${MAX_ITEM_DEPTH} levels deep` }
  }
  const connId = item.conn_id
  if (connId === undefined || connId === null || connId === '') {
    return { ok: false, reason: 'conn_id is missing or empty' }
  }
  if (!Array.isArray(item.conversation)) {
    return { ok: false, reason: 'conversation is not an array' }
  }
  const conversation = item.conversation as unknown[]
  for (let position = 0; position < conversation.length; position++) {
    if (!isRecord(conversation[position]))
      return { ok: false, reason: `conversation[${position}] is not an object` }
  }
  return { ok: true, messageCount: conversation.length }
}

/**
 * Reads one `chat_2` `data` item. A chat needs a non-empty `conn_id`, a `conversation` array of
 * objects and at most {@link MAX_ITEM_DEPTH} levels; everything else is optional and kept.
 */
export function parseChat2Row(item: unknown): RowParse<ChatRow> {
  const check = checkChat2Row(item)
  if (!check.ok) return check
  const chat = item as Record<string, unknown>
  const conversation: ChatMessageRow[] = []
  for (const message of chat.conversation as Record<string, unknown>[]) {
    conversation.push({
      channel: asText(message.channel),
      from: asText(message.from),
      from_name: asText(message.from_name),
      to_name: asText(message.to_name),
      date: asText(message.date),
      message: asText(message.message),
      customer_id: asText(message.customer_id),
      feeling: asText(message.feeling),
      customer_phone: asText(message.customer_phone),
      extra: extraOf(message, knownMessageFields),
    })
  }
  return {
    ok: true,
    messageCount: conversation.length,
    row: {
      conn_id: asText(chat.conn_id) ?? '',
      agent_name: asText(chat.agent_name),
      customer_name: asText(chat.customer_name),
      conversation,
      extra: extraOf(chat, chatFields),
    },
  }
}
