import fc from 'fast-check'
import { MockAgent } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { Secret } from '@wolkvox-chat-stream/config'
import {
  deeplyNested,
  expectOnlyAppErrors,
  hostileStrings,
  withinMs,
} from '@wolkvox-chat-stream/errors'
import { checkChat2Row, itemJsonText, parseChat2Row } from './chat-2.js'
import { createWolkvoxClient } from './client.js'

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
const chatFields = ['conn_id', 'agent_name', 'customer_name', 'conversation'] as const
const protoKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
/** A field's value: text most often, any JSON, or (rarely) JSON nested thousands of levels. */
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 6_000 }).map(deeplyNested) },
)
const key = (known: readonly string[]) =>
  fc.oneof(fc.constantFrom(...known), fc.constantFrom(...protoKeys), text)
const message = fc.dictionary(key(messageFields), fieldValue, { maxKeys: 12 })
/** Chat-shaped JSON, valid or not, with unknown and prototype keys. */
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

/** A chat that parseChat2Row must read: a conn_id and an array of message objects. */
const validChat = fc
  .record({
    conn_id: fc.oneof(
      text.filter((t) => t !== ''),
      fc.integer(),
    ),
    agent_name: fc.oneof(text, fc.constant(null)),
    customer_name: fc.oneof(text, fc.jsonValue({ maxDepth: 1 })),
    conversation: fc.array(
      fc.dictionary(key(messageFields), fc.oneof(text, fc.jsonValue({ maxDepth: 2 })), {
        maxKeys: 12,
      }),
      { maxLength: 4 },
    ),
    extra: fc.dictionary(
      fc.oneof(fc.constantFrom(...protoKeys), text),
      fc.jsonValue({ maxDepth: 2 }),
      {
        maxKeys: 4,
      },
    ),
  })
  .map(({ extra, ...known }) => Object.assign(extra, known) as Record<string, unknown>)

const asJsonText = (value: unknown): string | null =>
  value === undefined || value === null
    ? null
    : typeof value === 'string'
      ? value
      : JSON.stringify(value)

describe('checkChat2Row and parseChat2Row on any JSON item', () => {
  it('never throw, agree with each other, and stay fast', () => {
    fc.assert(
      fc.property(chatLike, (item) => {
        const check = withinMs(() => expectOnlyAppErrors(() => checkChat2Row(item), []), 50, item)
        const parse = withinMs(() => expectOnlyAppErrors(() => parseChat2Row(item), []), 50, item)
        if (!check.ok || !parse.ok) throw new Error('unreachable')
        expect(parse.value.ok).toBe(check.value.ok)
        if (check.value.ok && parse.value.ok) {
          expect(parse.value.messageCount).toBe(check.value.messageCount)
          expect(parse.value.row.conversation).toHaveLength(check.value.messageCount)
          expect(parse.value.row.conn_id).not.toBe('')
        } else if (!check.value.ok && !parse.value.ok) {
          expect(parse.value.reason).toBe(check.value.reason)
        }
      }),
      { numRuns: 1_500 },
    )
  })

  it('round-trip: a valid chat keeps every field exactly, and every unknown key in extra', () => {
    fc.assert(
      fc.property(validChat, (chat) => {
        const parsed = parseChat2Row(chat)
        if (!parsed.ok) throw new Error(`refused: ${parsed.reason}`)
        const { row } = parsed
        expect(row.conn_id).toBe(asJsonText(chat.conn_id))
        expect(row.agent_name).toBe(asJsonText(chat.agent_name))
        expect(row.customer_name).toBe(asJsonText(chat.customer_name))
        const unknownChatKeys = Object.keys(chat).filter(
          (k) => !(chatFields as readonly string[]).includes(k),
        )
        expect(Object.keys(row.extra).sort()).toEqual(unknownChatKeys.sort())
        for (const k of unknownChatKeys) expect(row.extra[k]).toBe(asJsonText(chat[k]) ?? 'null')
        const conversation = chat.conversation as Record<string, unknown>[]
        row.conversation.forEach((m, i) => {
          const source = conversation[i]!
          for (const field of messageFields) expect(m[field]).toBe(asJsonText(source[field]))
          const unknownKeys = Object.keys(source).filter(
            (k) => !(messageFields as readonly string[]).includes(k),
          )
          expect(Object.keys(m.extra).sort()).toEqual(unknownKeys.sort())
          for (const k of unknownKeys) expect(m.extra[k]).toBe(asJsonText(source[k]) ?? 'null')
        })
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('the client reading any chat_2 answer', () => {
  const agent = new MockAgent()
  agent.disableNetConnect()
  const client = createWolkvoxClient({
    server: '0010',
    token: new Secret('fuzz-token-0123456789'),
    dispatcher: agent,
    now: () => Date.parse('2025-02-12T12:00:00Z'),
    sleep: () => Promise.resolve(),
    retry: { maxAttempts: 1 },
  })
  afterAll(async () => {
    await client.close()
    await agent.close()
  })

  /** JSON text of a body, or undefined when JSON.stringify cannot write it (too deep). */
  const textOf = (body: unknown): string | undefined => {
    try {
      return JSON.stringify(body)
    } catch {
      return undefined
    }
  }
  /** A chat, valid or not, with a value nested `depth` levels, written as text. */
  const deepBody = fc
    .tuple(fc.integer({ min: 60, max: 6_000 }), fc.constantFrom('"c1"', 'null'))
    .map(
      ([depth, connId]) =>
        `{"code":200,"data":[{"conn_id":${connId},"conversation":[{"x":${'['.repeat(depth)}${']'.repeat(depth)}}]}]}`,
    )
  const bodyText = fc.oneof(
    fc.constantFrom(...hostileStrings),
    fc
      .array(chatLike, { maxLength: 4 })
      .map((data) => textOf({ code: 200, data }) ?? '{"code":200,"data":[]}'),
    fc
      .array(chatLike, { maxLength: 3 })
      .map((data) => `\uFEFF${textOf({ code: '404', msg: 'No records', data }) ?? ''}`),
    deepBody,
    fc.json({ maxDepth: 3 }),
  )

  it('resolves, or rejects with an AppError of a registered code, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(200, 200, 200, 404, 400, 403, 500),
        bodyText,
        async (status, body) => {
          agent
            .get('https://wv0010.wolkvox.com')
            .intercept({ path: (p) => p.startsWith('/api/v2/reports_manager.php?'), method: 'GET' })
            .reply(status, body, { headers: { 'content-type': 'application/json' } })
          let result: Awaited<ReturnType<typeof client.fetchReport>> | undefined
          try {
            result = await client.fetchReport({
              report: 'chat_2',
              from: new Date('2025-02-11T05:00:00Z'),
              to: new Date('2025-02-11T06:00:00Z'),
            })
          } catch (error) {
            expectOnlyAppErrors(() => {
              throw error
            })
          }
          if (result === undefined) return
          const rows = expectOnlyAppErrors(() => result.rows, [], body)
          if (!rows.ok) return
          expect(rows.value.length + result.invalidRows.length).toBe(result.rowCount)
          for (const invalid of result.invalidRows) expect(typeof invalid.raw).toBe('string')
        },
      ),
      { numRuns: 250 },
    )
  })

  it('regression: dead-letters an invalid row nested 5,000 levels deep (it threw a RangeError)', async () => {
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`
    agent
      .get('https://wv0010.wolkvox.com')
      .intercept({ path: (p) => p.startsWith('/api/v2/reports_manager.php?'), method: 'GET' })
      .reply(
        200,
        `{"code":200,"data":[{"conn_id":null,"x":${deep}},{"conn_id":"c2","conversation":[]}]}`,
      )
    const result = await client.fetchReport({
      report: 'chat_2',
      from: new Date('2025-02-11T05:00:00Z'),
      to: new Date('2025-02-11T06:00:00Z'),
    })
    expect(result.rowCount).toBe(2)
    expect(result.invalidRows).toEqual([
      {
        index: 0,
        reason: 'item nests more than 64 levels deep',
        raw: '"[an item nested more than 64 levels deep]"',
      },
    ])
    expect(result.rows.map((row) => row.conn_id)).toEqual(['c2'])
  })
})

describe('regressions found by the properties above', () => {
  it('refuses an item nested 5,000 levels deep instead of overflowing the stack', () => {
    const item = { conn_id: 'c1', conversation: [{ x: deeplyNested(5_000) }] }
    expect(parseChat2Row(item)).toEqual({
      ok: false,
      reason: 'item nests more than 64 levels deep',
    })
    expect(itemJsonText({ conversation: deeplyNested(5_000) })).toBe(
      '"[an item nested more than 64 levels deep]"',
    )
    // 64 levels are still read: the item, conversation, a message and 61 nested arrays.
    const deepest = { conn_id: 'c1', conversation: [{ x: deeplyNested(61) }] }
    expect(parseChat2Row(deepest).ok).toBe(true)
    expect(parseChat2Row({ conn_id: 'c1', conversation: [{ x: deeplyNested(62) }] }).ok).toBe(false)
  })

  it('keeps an unknown "__proto__" key in extra (it was dropped)', () => {
    const item = JSON.parse(
      '{"conn_id":"c1","__proto__":"a","conversation":[{"__proto__":{"b":1},"from":"AGENT"}]}',
    ) as unknown
    const parsed = parseChat2Row(item)
    if (!parsed.ok) throw new Error(parsed.reason)
    expect(Object.entries(parsed.row.extra)).toEqual([['__proto__', 'a']])
    expect(Object.entries(parsed.row.conversation[0]!.extra)).toEqual([['__proto__', '{"b":1}']])
  })
})
