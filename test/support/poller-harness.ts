import { isDeepStrictEqual } from 'node:util'
import {
  chatMessageRevision,
  decodeChatMessage,
  eventId,
  topics,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import { createKafkaClient, type Kafka } from '@wolkvox-chat-stream/kafka'
import type { ExpectedEvent, Selection, Truth } from '@wolkvox-chat-stream/wolkvox-simulator'
import { readTopicToEnd } from './read-topic.js'

/** A fresh operation code for one test, so tests sharing the broker's topics never mix. */
export function newServerCode(): string {
  return String(100_000 + Math.floor(Math.random() * 899_999))
}

/** The environment a poller reads, pointed at a simulator, the run's broker and a Redis. */
export function pollerEnv(input: {
  server: string
  token: string
  simulatorUrl: string
  kafkaBrokers: string
  redisUrl: string
  extra?: Record<string, string>
}): Record<string, string> {
  return {
    WOLKVOX_SERVER: input.server,
    WOLKVOX_TOKEN: input.token,
    WOLKVOX_BASE_URL: input.simulatorUrl,
    KAFKA_BROKERS: input.kafkaBrokers,
    REDIS_URL: input.redisUrl,
    POLL_LOCK_TTL: '3s',
    POLL_LOCK_WAIT: '60s',
    LOG_LEVEL: 'warn',
    ...input.extra,
  }
}

/**
 * What a message of the ground truth must be on the topic, by its event id: the simulator's
 * expected event (every field it knows by construction) with what the poll adds that a test knows
 * in advance. `revision` is the frozen hash of the final values (and of `pending` for a late
 * message's first read).
 */
export interface ExpectedMessage extends ExpectedEvent {
  event_id: string
  server: string
  report: string
  revision: string
  /** How the truth's window selected chats: a message-time poll window cuts chats its own way. */
  selection: Selection
}

/** Each message of the truth with its event_id, from the simulator's own occurrence count. */
export function truthMessages(
  truth: Pick<Truth, 'data' | 'events'>,
  server: string,
  report = 'chat_2',
): {
  id: string
  connId: string
  message: Record<string, string | undefined>
  expected: ExpectedEvent
}[] {
  const out: ReturnType<typeof truthMessages> = []
  let index = 0
  for (const chat of truth.data) {
    for (const raw of chat.conversation) {
      const m = raw as Record<string, string | undefined>
      const expected = truth.events[index++]
      if (expected === undefined || expected.conn_id !== chat.conn_id || expected.date !== m.date) {
        throw new Error(`truth.events does not match truth.data at message ${index - 1}`)
      }
      const id = eventId({
        server,
        report,
        conn_id: expected.conn_id,
        date: expected.date,
        from: expected.from,
        from_name: expected.from_name,
        message: expected.message,
        occurrence: expected.occurrence,
      })
      out.push({ id, connId: chat.conn_id, message: m, expected })
    }
  }
  return out
}

/** The revision of an expected message's values (`pending` for its first read, when late). */
function revisionOf(
  e: ExpectedEvent,
  values: Pick<ExpectedEvent, 'customer_id' | 'feeling' | 'customer_phone'>,
): string {
  return chatMessageRevision({
    agent_name: e.agent_name,
    customer_name: e.customer_name,
    channel: e.channel,
    to_name: e.to_name,
    customer_id: values.customer_id,
    feeling: values.feeling,
    customer_phone: values.customer_phone,
    extra: e.extra,
  })
}

/** The event ids (and every field) the topic must hold for the truth of a window. */
export function expectedMessages(
  truth: Truth,
  server: string,
  report = 'chat_2',
): Map<string, ExpectedMessage> {
  const out = new Map<string, ExpectedMessage>()
  for (const { id, expected } of truthMessages(truth, server, report)) {
    out.set(id, {
      ...expected,
      event_id: id,
      server,
      report,
      revision: revisionOf(expected, expected),
      selection: truth.selection,
    })
  }
  return out
}

/**
 * The truth's events as `ChatMessage`s, for references computed from the truth alone (the
 * sentiment reference): the poll's lineage (`polled_at`, `window_*`) is the epoch, as no poll made them.
 */
export function truthChatMessages(truth: Truth, server: string, report = 'chat_2'): ChatMessage[] {
  return [...expectedMessages(truth, server, report).values()].map((e) => ({
    event_id: e.event_id,
    revision: e.revision,
    server: e.server,
    report: e.report,
    conn_id: e.conn_id,
    agent_name: e.agent_name,
    customer_name: e.customer_name,
    channel: e.channel,
    from: e.from,
    from_name: e.from_name,
    to_name: e.to_name,
    date: e.date,
    message: e.message,
    customer_id: e.customer_id,
    feeling: e.feeling,
    customer_phone: e.customer_phone,
    sent_at: new Date(e.sent_at_ms),
    position: e.position,
    conversation_length: e.conversation_length,
    channel_normalized: e.channel_normalized,
    sender: e.sender,
    sentiment: e.sentiment,
    extra: { ...e.extra },
    polled_at: new Date(0),
    window_start: new Date(0),
    window_end: new Date(0),
  }))
}

let reader: Kafka | undefined

/** Every ChatMessage of `server` on the topic, in topic order. */
export async function chatMessagesOf(kafkaBrokers: string, server: string): Promise<ChatMessage[]> {
  reader ??= createKafkaClient({ brokers: [kafkaBrokers], clientId: 'test-topic-reader' })
  const records = await readTopicToEnd(reader, topics.chatMessage.name)
  return records.map((r) => decodeChatMessage(r.value!)).filter((e) => e.server === server)
}

/** How `server`'s messages on the topic differ from the simulator's truth of a range. */
export async function topicDiffFromTruth(
  kafkaBrokers: string,
  server: string,
  truth: Truth,
): Promise<ReturnType<typeof compareWithTruth>> {
  return compareWithTruth(
    await chatMessagesOf(kafkaBrokers, server),
    expectedMessages(truth, server),
  )
}

/** Raw records of the poller's dead-letter topic for `server`. */
export async function deadLettersOf(
  kafkaBrokers: string,
  server: string,
): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
  reader ??= createKafkaClient({ brokers: [kafkaBrokers], clientId: 'test-topic-reader' })
  const records = await readTopicToEnd(reader, topics.pollerDlq.name)
  return records
    .filter((r) => r.key?.toString().startsWith(`${server}|`))
    .map((r) => ({
      key: r.key!.toString(),
      value: r.value!.toString(),
      headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, String(v)])),
    }))
}

/** What {@link compareWithTruth} knows of the run beyond the truth. */
export interface CompareOptions {
  /** Every record was polled in this span (epoch ms, inclusive): the test's run. */
  polledWithin?: { fromMs: number; toMs: number }
}

/** A value short enough for a failure message (texts can be megabytes of base64). */
function shown(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : (JSON.stringify(value) ?? 'undefined')
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

/** Fields compared exactly with the truth (ChatMessage v2 order). */
const EXACT_FIELDS = [
  'server',
  'report',
  'conn_id',
  'agent_name',
  'customer_name',
  'channel',
  'from',
  'from_name',
  'to_name',
  'date',
  'message',
  'channel_normalized',
  'sender',
] as const
/** Fields a late message first carries empty (with the revision they make): final or pending. */
const LATE_FIELDS = ['customer_id', 'feeling', 'customer_phone', 'sentiment', 'revision'] as const

/**
 * How one record differs from its expected message, as `field: got X, want Y`. `final` says
 * whether the record is the event's latest: an earlier one may also carry the pending values a
 * read before the late data was filled gets.
 *
 * Every field of ChatMessage v2 is checked. Exact: all but those below. Not knowable in advance,
 * so checked for what can be known:
 * - `polled_at`: when the poller got the response; within `options.polledWithin` when given, and
 *   never before the end of its window.
 * - `window_start`, `window_end`: the poll window, which depends on the poller's schedule; the
 *   window must be well-formed and hold what selected the message (its chat's closing for a
 *   closing-time selection, its `sent_at` for a message-time one).
 * - `position`, `conversation_length` with a message-time selection: the poll window cuts the
 *   chat, not the truth's window; the record must be a consistent slice of the whole chat.
 * - `customer_id`, `feeling`, `customer_phone`, `sentiment`, `revision` of a record that is not
 *   the event's latest: the final values or, for a late message, the pending ones.
 * Partition and offset are not part of the event (the key, `conn_id`, places it).
 */
function differences(
  e: ChatMessage,
  want: ExpectedMessage,
  final: boolean,
  options: CompareOptions,
): string[] {
  const out: string[] = []
  const check = (field: string, got: unknown, expected: unknown): void => {
    if (!isDeepStrictEqual(got, expected)) {
      out.push(`${e.event_id}.${field}: got ${shown(got)}, want ${shown(expected)}`)
    }
  }
  for (const field of EXACT_FIELDS) check(field, e[field], want[field])
  check('sent_at', e.sent_at, new Date(want.sent_at_ms))
  // Compared as plain objects: the decoder's map may have another prototype.
  check('extra', { ...e.extra }, want.extra)
  if (want.selection === 'closing') {
    check('position', e.position, want.position)
    check('conversation_length', e.conversation_length, want.conversation_length)
  } else {
    // The window's first message of the chat is this one's position earlier in the whole chat.
    const first = want.chat_position - e.position
    if (first < 0 || e.position >= e.conversation_length) {
      check('position', e.position, `0..${want.chat_position} and < conversation_length`)
    }
    if (first + e.conversation_length > want.chat_length) {
      check('conversation_length', e.conversation_length, `<= ${want.chat_length - first}`)
    }
  }
  const finalValues = {
    customer_id: want.customer_id,
    feeling: want.feeling,
    customer_phone: want.customer_phone,
    sentiment: want.sentiment,
    revision: want.revision,
  }
  const got = Object.fromEntries(LATE_FIELDS.map((f) => [f, e[f]]))
  const pending =
    want.pending === undefined
      ? undefined
      : { ...want.pending, revision: revisionOf(want, want.pending) }
  if (final || pending === undefined || !isDeepStrictEqual(got, pending)) {
    for (const field of LATE_FIELDS) check(field, e[field], finalValues[field])
  }
  const polled = e.polled_at.getTime()
  const [start, end] = [e.window_start.getTime(), e.window_end.getTime()]
  if (options.polledWithin) {
    const { fromMs, toMs } = options.polledWithin
    if (polled < fromMs || polled > toMs) {
      check('polled_at', e.polled_at, `within ${shown(new Date(fromMs))}..${shown(new Date(toMs))}`)
    }
  }
  if (!(start <= end && end <= polled)) {
    check(
      'window_end',
      e.window_end,
      `>= window_start ${shown(e.window_start)}, <= polled_at ${shown(e.polled_at)}`,
    )
  }
  // The window's last second is inclusive: anything in it up to its last millisecond.
  const selectedAt = want.selection === 'closing' ? want.closed_at_ms : want.sent_at_ms
  if (selectedAt < start || selectedAt > end + 999) {
    const what = want.selection === 'closing' ? 'the chat closed at' : 'sent at'
    check('window_start', e.window_start, `a window holding ${what} ${shown(new Date(selectedAt))}`)
  }
  return out
}

/**
 * Compares the topic with the truth: every expected message at least once, nothing foreign, and
 * every field of each record as {@link differences} says (the latest record of an event, by
 * `polled_at`, carries the final values). `wrong` lists `event_id.field: got X, want Y`.
 */
export function compareWithTruth(
  events: readonly ChatMessage[],
  expected: Map<string, ExpectedMessage>,
  options: CompareOptions = {},
): { missing: string[]; unexpected: string[]; repeated: string[]; wrong: string[] } {
  const byId = new Map<string, ChatMessage[]>()
  for (const e of events) {
    const records = byId.get(e.event_id)
    if (records) records.push(e)
    else byId.set(e.event_id, [e])
  }
  const wrong: string[] = []
  for (const [id, records] of byId) {
    const want = expected.get(id)
    if (!want) continue
    // The latest revision wins (schema: revision); among equal polled_at, the later record.
    const latest = records.reduce((a, b) =>
      b.polled_at.getTime() >= a.polled_at.getTime() ? b : a,
    )
    for (const e of records) wrong.push(...differences(e, want, e === latest, options))
  }
  return {
    missing: [...expected.keys()].filter((id) => !byId.has(id)),
    unexpected: [...byId.keys()].filter((id) => !expected.has(id)),
    repeated: [...byId.entries()].filter(([, records]) => records.length > 1).map(([id]) => id),
    wrong,
  }
}
