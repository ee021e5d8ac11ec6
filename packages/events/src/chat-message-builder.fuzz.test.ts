import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  deeplyNested,
  expectOnlyAppErrors,
  hostileStrings,
  isAppError,
  withinMs,
} from '@wolkvox-chat-stream/errors'
import { buildChatMessages, type PollContext } from './chat-message-builder.js'
import { decodeChatMessage, encodeChatMessage } from './records.js'

const context: PollContext = {
  server: '0010',
  zone: 'America/Bogota',
  window: { start: new Date('2025-02-11T15:00:00Z'), end: new Date('2025-02-11T15:29:59Z') },
  polledAt: new Date('2025-02-11T15:35:00.123Z'),
}

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
const requiredMessageFields = messageFields.slice(0, 7)
const chatFields = ['conn_id', 'agent_name', 'customer_name', 'conversation'] as const
const protoKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
const upstreamDate = fc
  .date({
    min: new Date('1990-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString().slice(0, 19).replace('T', ' '))
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 2, arbitrary: upstreamDate },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 6_000 }).map(deeplyNested) },
)
const key = (known: readonly string[]) =>
  fc.oneof(fc.constantFrom(...known), fc.constantFrom(...protoKeys), text)
const message = fc.dictionary(key(messageFields), fieldValue, { maxKeys: 12 })
/** Chat-shaped JSON, valid or not, with unknown and prototype keys and deep values. */
const chatLike = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            conn_id: fc.oneof(text, fc.integer(), fc.constantFrom(null, '', 0, false)),
            agent_name: fieldValue,
            customer_name: fieldValue,
            conversation: fc.oneof(
              { weight: 5, arbitrary: fc.array(message, { maxLength: 4 }) },
              { weight: 1, arbitrary: fc.array(fc.oneof(message, fieldValue), { maxLength: 3 }) },
              { weight: 1, arbitrary: fieldValue },
            ),
          },
          { requiredKeys: [] },
        ),
        fc.dictionary(key(chatFields), fieldValue, { maxKeys: 4 }),
      )
      .map(([known, extra]) => Object.assign(extra, known) as unknown),
  },
)

/** A value the builder must take: any text or (kept as its JSON text) any shallow JSON. */
const presentValue = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).filter((v) => v !== null) },
)
const validMessage = fc
  .tuple(
    fc.record({
      channel: presentValue,
      from: fc.oneof(fc.constantFrom('CUSTOMER', 'AGENT', 'bot', ' Chat-Bot '), presentValue),
      from_name: presentValue,
      to_name: presentValue,
      date: upstreamDate,
      message: presentValue,
      customer_id: presentValue,
      feeling: fc.oneof(fc.constantFrom('Very Negative', 'neutral', '', null), presentValue),
    }),
    fc.dictionary(fc.oneof(fc.constantFrom(...protoKeys), text), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    }),
  )
  .map(([known, extra]) => Object.assign(extra, known) as Record<string, unknown>)
const validChat = fc.record({
  conn_id: fc.oneof(text, fc.integer()),
  agent_name: presentValue,
  customer_name: presentValue,
  conversation: fc.array(validMessage, { maxLength: 4 }),
})

const asText = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
/**
 * Avro strings are UTF-8, which cannot hold a lone UTF-16 surrogate: every Avro writer (avsc, and
 * Java's) writes one as U+FFFD, so the wire round trip holds for well-formed strings only.
 * Documented at `EventCodec.encode`.
 */
function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\p{Cs}/gu, '\uFFFD') as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  if (Array.isArray(value)) return value.map(wellFormed) as T
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormed(v as unknown)]),
  ) as T
}

describe('buildChatMessages on any upstream chat', () => {
  it('never throws; refuses rows only with EVENT_UPSTREAM_ROW_INVALID, with raw JSON it can write', () => {
    fc.assert(
      fc.property(chatLike, (chat) => {
        const outcome = withinMs(
          () => expectOnlyAppErrors(() => buildChatMessages(chat, context), []),
          100,
          chat,
        )
        if (!outcome.ok) return
        const { events, rejected } = outcome.value
        for (const row of rejected) {
          expect(isAppError(row.error, 'EVENT_UPSTREAM_ROW_INVALID')).toBe(true)
          // The poller dead-letters `raw` as its JSON text.
          expect(() => JSON.stringify(row.raw)).not.toThrow()
        }
        const conversation = (chat as { conversation?: unknown } | null)?.conversation
        if (events.length > 0 || rejected.some((r) => r.position !== null)) {
          expect(events.length + rejected.length).toBe((conversation as unknown[]).length)
        }
        for (const event of events) {
          expect(event.conversation_length).toBe((conversation as unknown[]).length)
          expect(event.event_id).toMatch(/^[0-9a-f]{32}$/)
          // Every event fits its schema, and is read back as written.
          const bytes = expectOnlyAppErrors(() => encodeChatMessage(event), [], event)
          if (!bytes.ok) throw new Error('unreachable')
          expect(decodeChatMessage(bytes.value)).toEqual(wellFormed(event))
        }
      }),
      { numRuns: 1_500 },
    )
  })

  it('round-trip: every message of a valid chat becomes an event holding its fields exactly', () => {
    fc.assert(
      fc.property(validChat, (chat) => {
        const { events, rejected } = buildChatMessages(chat, context)
        expect(rejected).toEqual([])
        expect(events).toHaveLength(chat.conversation.length)
        events.forEach((event, position) => {
          const source = chat.conversation[position]!
          expect(event.position).toBe(position)
          expect(event.conn_id).toBe(asText(chat.conn_id))
          expect(event.agent_name).toBe(asText(chat.agent_name))
          for (const field of requiredMessageFields)
            expect(event[field]).toBe(asText(source[field]))
          expect(event.feeling).toBe(source.feeling === null ? null : asText(source.feeling))
          const unknownKeys = Object.keys(source).filter(
            (k) => !(messageFields as readonly string[]).includes(k),
          )
          expect(Object.keys(event.extra).sort()).toEqual(unknownKeys.sort())
          expect(decodeChatMessage(encodeChatMessage(event))).toEqual(wellFormed(event))
          expect(decodeChatMessage(encodeChatMessage(event, { version: 1 }))).toEqual({
            ...wellFormed(event),
            revision: '',
          })
        })
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('regressions found by the properties above', () => {
  const good = {
    channel: 'WhatsApp',
    from: 'CUSTOMER',
    from_name: 'Ana',
    to_name: 'bot',
    date: '2025-02-11 10:22:33',
    message: 'hola',
    customer_id: '573001234567',
  }

  it('rejects only the message nested 5,000 levels deep (it threw a RangeError)', () => {
    const chat = {
      conn_id: 'c1',
      agent_name: 'Laura',
      customer_name: 'Ana',
      conversation: [{ ...good, attachment: deeplyNested(5_000) }, good],
    }
    const { events, rejected } = buildChatMessages(chat, context)
    expect(events.map((e) => e.position)).toEqual([1])
    expect(rejected).toHaveLength(1)
    expect(rejected[0]!.position).toBe(0)
    expect(rejected[0]!.error.message).toBe('Chat c1, message 0: nests more than 64 levels')
    expect(JSON.stringify(rejected[0]!.raw)).toContain('[nested more than 64 levels deep]')
  })

  it('gives a whole chat rejected for its conn_id a raw the poller can write as JSON', () => {
    const chat = { agent_name: 'Laura', conversation: [{ x: deeplyNested(5_000) }] }
    const { rejected } = buildChatMessages(chat, context)
    expect(rejected[0]!.error.message).toBe('A chat has no conn_id')
    expect(() => JSON.stringify(rejected[0]!.raw)).not.toThrow()
    const deepChat = { conn_id: 'c2', agent_name: deeplyNested(5_000), conversation: [] }
    expect(buildChatMessages(deepChat, context).rejected[0]!.error.message).toBe(
      'Chat c2: agent_name nests more than 64 levels',
    )
  })

  it('refuses a chat whose conn_id and another field both nest too deep (it threw a RangeError)', () => {
    // Found by the property above in CI: the other field was found first, and the conn_id was
    // then turned into text for the message.
    const chat = JSON.parse(
      `{"__proto__":${'['.repeat(64)}${']'.repeat(64)},"conn_id":${'['.repeat(4095)}${']'.repeat(4095)}}`,
    ) as unknown
    const { rejected } = buildChatMessages(chat, context)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]!.conn_id).toBeNull()
    expect(rejected[0]!.error.code).toBe('EVENT_UPSTREAM_ROW_INVALID')
    expect(() => JSON.stringify(rejected[0]!.raw)).not.toThrow()
  })

  it('keeps an extra key "__proto__" through encode and decode (decoding dropped it)', () => {
    const message = JSON.parse(`{"__proto__":"x",${JSON.stringify(good).slice(1)}`) as object
    const chat = {
      conn_id: 'c1',
      agent_name: 'Laura',
      customer_name: 'Ana',
      conversation: [message],
    }
    const [event] = buildChatMessages(chat, context).events
    const decoded = decodeChatMessage(encodeChatMessage(event!))
    expect(Object.entries(decoded.extra)).toEqual([['__proto__', 'x']])
  })
})
