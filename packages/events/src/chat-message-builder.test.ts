import { describe, expect, it } from 'vitest'
import {
  buildChatMessages,
  isBotSpelling,
  normalizeChannel,
  senderOf,
  sentimentOf,
} from './chat-message-builder.js'
import { chatMessageCodec } from './records.js'
import { chat, context, message } from './builder-fixtures.test-support.js'

describe('buildChatMessages', () => {
  it('keeps upstream fields exact and adds the derived ones', () => {
    const { events, rejected } = buildChatMessages(
      chat([message({ feeling: 'Very Negative', message: '  Hola 👋 <b>x</b>  ' })]),
      context,
    )
    expect(rejected).toEqual([])
    expect(events).toHaveLength(1)
    const event = events[0]!
    expect(event).toMatchObject({
      server: '0010',
      report: 'chat_2',
      conn_id: 'CH-1',
      agent_name: 'Ana  María',
      customer_name: 'Zoë',
      channel: 'WhatsApp',
      from: 'CUSTOMER',
      from_name: 'Zoë',
      to_name: 'chat bot',
      date: '2025-02-11 10:22:33',
      message: '  Hola 👋 <b>x</b>  ',
      customer_id: '573001234567',
      feeling: 'Very Negative',
      customer_phone: null,
      sent_at: new Date('2025-02-11T15:22:33Z'),
      position: 0,
      conversation_length: 1,
      channel_normalized: 'whatsapp',
      sender: 'customer',
      sentiment: 'very_negative',
      polled_at: context.polledAt,
      window_start: context.window.start,
      window_end: context.window.end,
    })
    expect(event.event_id).toMatch(/^[0-9a-f]{32}$/)
    // Every event it builds fits the schema.
    expect(chatMessageCodec.decode(chatMessageCodec.encode(event))).toEqual({
      ...event,
      extra: {},
    })
  })

  it('numbers positions over the whole array and counts identical messages', () => {
    const { events } = buildChatMessages(
      chat([message(), message({ from: 'AGENT', from_name: 'Ana' }), message()]),
      context,
    )
    expect(events.map((e) => [e.position, e.conversation_length])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ])
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3)
    // A re-poll gives the same ids, whatever fields outside the identity changed.
    const again = buildChatMessages(
      chat(
        [
          message({ feeling: 'positive', to_name: 'x' }),
          message({ from: 'AGENT', from_name: 'Ana' }),
          message(),
        ],
        { agent_name: 'renamed', customer_name: 'renamed' },
      ),
      { ...context, polledAt: new Date() },
    )
    expect(again.events.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id))
  })

  it('puts unknown fields in extra: chat-level ones prefixed, non-strings as JSON text', () => {
    const { events } = buildChatMessages(
      chat(
        [
          message({
            attachments: [{ url: 'u' }],
            score: 3,
            flag: false,
            nothing: null,
            'chat.skill': 'message wins',
            __proto__: 'kept',
          }),
        ],
        { skill: 'ventas', queue: 7 },
      ),
      context,
    )
    expect({ ...events[0]!.extra }).toEqual({
      'chat.skill': 'message wins',
      'chat.queue': '7',
      attachments: '[{"url":"u"}]',
      score: '3',
      flag: 'false',
      nothing: 'null',
    })
    expect(Object.keys(events[0]!.extra)).not.toContain('__proto__')
  })

  it('keeps an own "__proto__" key from parsed JSON as a plain extra key', () => {
    const parsed = JSON.parse(
      '{"conn_id":"CH-9","agent_name":"a","customer_name":"c","conversation":[' +
        '{"channel":"web","from":"AGENT","from_name":"a","to_name":"c","date":"2025-02-11 10:22:33",' +
        '"message":"m","customer_id":"1","__proto__":"x"}]}',
    ) as unknown
    const { events } = buildChatMessages(parsed, context)
    expect(Object.entries(events[0]!.extra)).toEqual([['__proto__', 'x']])
    expect(chatMessageCodec.encode(events[0]!).length).toBeGreaterThan(10)
  })

  it('keeps non-string upstream values of known fields as JSON text', () => {
    const { events } = buildChatMessages(
      chat([message({ customer_id: 573001234567, feeling: 5, customer_phone: '+57 300' })], {
        conn_id: 12345,
      }),
      context,
    )
    expect(events[0]).toMatchObject({
      conn_id: '12345',
      customer_id: '573001234567',
      feeling: '5',
      customer_phone: '+57 300',
      sentiment: 'unknown',
    })
  })

  it('rejects broken messages with their raw JSON and keeps the others', () => {
    const missing = message()
    delete missing.to_name
    const conversation = [
      message(),
      'not an object',
      missing,
      message({ message: null }),
      message({ date: '2025-02-30 10:00:00' }),
      message({ date: '11/02/2025 10:22' }),
      message({ message: 'last' }),
    ]
    const { events, rejected } = buildChatMessages(chat(conversation), context)
    expect(events.map((e) => e.position)).toEqual([0, 6])
    expect(
      rejected.map((r) => [
        r.position,
        r.error.code,
        r.error.details.field,
        r.raw === conversation[r.position!],
      ]),
    ).toEqual([
      [1, 'EVENT_UPSTREAM_ROW_INVALID', 'conversation', true],
      [2, 'EVENT_UPSTREAM_ROW_INVALID', 'to_name', true],
      [3, 'EVENT_UPSTREAM_ROW_INVALID', 'message', true],
      [4, 'EVENT_UPSTREAM_ROW_INVALID', 'date', true],
      [5, 'EVENT_UPSTREAM_ROW_INVALID', 'date', true],
    ])
    expect(rejected.every((r) => r.conn_id === 'CH-1')).toBe(true)
    expect(events[1]!.conversation_length).toBe(7)
  })

  it('counts rejected messages in the occurrence of later identical ones', () => {
    const broken = message({ customer_id: null })
    const { events } = buildChatMessages(chat([broken, message()]), context)
    const alone = buildChatMessages(chat([message()]), context).events[0]!
    expect(events[0]!.event_id).not.toBe(alone.event_id)
  })

  it.each([
    ['not an object', ['x'], 'chat'],
    ['no conn_id', { agent_name: 'a', customer_name: 'c', conversation: [] }, 'conn_id'],
    ['conversation not an array', chat([], { conversation: {} }), 'conversation'],
    ['agent_name null', chat([message()], { agent_name: null }), 'agent_name'],
    ['customer_name absent', chat([message()], { customer_name: undefined }), 'customer_name'],
  ])('rejects a whole chat when %s', (_, raw, field) => {
    const { events, rejected } = buildChatMessages(raw, context)
    expect(events).toEqual([])
    expect(rejected).toHaveLength(1)
    expect(rejected[0]!.position).toBeNull()
    expect(rejected[0]!.raw).toBe(raw)
    expect(rejected[0]!.error.details.field).toBe(field)
  })

  it('reads the date in the zone it is given', () => {
    const madrid = buildChatMessages(chat([message()]), { ...context, zone: 'Europe/Madrid' })
    expect(madrid.events[0]!.sent_at).toEqual(new Date('2025-02-11T09:22:33Z'))
    expect(() =>
      buildChatMessages(chat([message()]), { ...context, zone: 'Nowhere/City' }),
    ).toThrow(expect.objectContaining({ code: 'EVENT_TIME_ZONE_INVALID' }))
  })
})

describe('normalisations', () => {
  it.each([
    ['WhatsApp', 'whatsapp'],
    [' Facebook ', 'facebook'],
    ['whatsapp official direct', 'whatsapp official direct'],
    ['FACEBOOK_PAGE', 'facebook_page'],
    ['', ''],
  ])('channel %j -> %j', (channel, normalized) => {
    expect(normalizeChannel(channel)).toBe(normalized)
  })

  it.each([
    ['CUSTOMER', 'Zoë', 'customer'],
    [' customer ', 'Zoë', 'customer'],
    ['AGENT', 'Ana', 'agent'],
    ['BOT', 'Wolkbot', 'bot'],
    ['AGENT', 'chat bot', 'bot'],
    ['AGENT', 'chat_bot', 'bot'],
    ['AGENT', 'Chat-Bot', 'bot'],
    ['CUSTOMER', 'ChatBot', 'bot'],
    ['SYSTEM', 'Wolkvox', 'other'],
    ['', '', 'other'],
    ['AGENT', 'Abbot', 'agent'],
  ] as const)('from %j, from_name %j -> %s', (from, fromName, sender) => {
    expect(senderOf(from, fromName)).toBe(sender)
  })

  it('recognises bot spellings only as whole values', () => {
    expect(isBotSpelling('chat  -  bot')).toBe(true)
    expect(isBotSpelling('robot')).toBe(false)
    expect(isBotSpelling('bot ana')).toBe(false)
  })

  it.each([
    ['very negative', 'very_negative'],
    ['Very Negative', 'very_negative'],
    [' NEGATIVE ', 'negative'],
    ['neutral', 'neutral'],
    ['Positive', 'positive'],
    ['very  positive', 'very_positive'],
    ['very-positive', 'unknown'],
    ['', 'unknown'],
    ['mixed', 'unknown'],
    [null, 'unknown'],
  ] as const)('feeling %j -> %s', (feeling, sentiment) => {
    expect(sentimentOf(feeling)).toBe(sentiment)
  })
})
