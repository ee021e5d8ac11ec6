import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  chatMessageRevision,
  decodeChatMessage,
  identifyFingerprint,
} from '@wolkvox-chat-stream/events'
import { createEventFactory } from './adapters/event-factory.js'
import { hmacHex, redactInlineImages, scrubRaw } from './privacy.js'

const KEY = 'a-long-enough-secret-key'
const png = Buffer.from('89504e470d0a1a0a0000000d49484452deadbeef', 'hex')
const dataUrl = `data:image/png;base64,${png.toString('base64')}`
const expectedImage = `[image sha256=${createHash('sha256').update(png).digest('hex')} bytes=${png.length}]`

const chat = {
  conn_id: 'c-1',
  agent_name: 'Laura',
  customer_name: 'Ana',
  conversation: [
    {
      channel: 'whatsapp',
      from: 'CUSTOMER',
      from_name: 'Ana',
      to_name: 'Laura',
      date: '2025-02-11 10:22:33',
      message: `mire: <img src="${dataUrl}" alt="x"> y ${dataUrl}`,
      customer_id: '573001234567',
      customer_phone: '573001234567',
    },
    { channel: 'whatsapp', from: 'AGENT', date: 'not a date', customer_id: '573001234567' },
  ],
}

function build(privacy?: { hashKey?: string; redactImages: boolean }, input: unknown = chat) {
  const factory = createEventFactory({
    server: '0010',
    report: 'chat_2',
    zone: 'America/Bogota',
    ...(privacy ? { privacy } : {}),
  })
  return factory([input], { window: { fromMs: 0, toMs: 1000 }, polledAtMs: 5000 })
}

describe('personal-data options', () => {
  it('hashes with HMAC-SHA256 under the key, lower-case hex', () => {
    expect(hmacHex(KEY, '573001234567')).toBe(
      createHmac('sha256', KEY).update('573001234567').digest('hex'),
    )
    expect(hmacHex(KEY, '573001234567')).toMatch(/^[0-9a-f]{64}$/)
  })

  it('replaces every inline image by its hash and size, and leaves other text alone', () => {
    expect(redactInlineImages(`a ${dataUrl} b ${dataUrl}`)).toBe(
      `a ${expectedImage} b ${expectedImage}`,
    )
    expect(redactInlineImages('<a href="https://x/y.png">foto</a>')).toBe(
      '<a href="https://x/y.png">foto</a>',
    )
  })

  it('changes nothing when off (the default)', () => {
    const plain = build()
    const off = build({ redactImages: false })
    expect(off.events.map((e) => e.value)).toEqual(plain.events.map((e) => e.value))
    const event = decodeChatMessage(plain.events[0]!.value)
    expect(event.customer_id).toBe('573001234567')
    expect(event.message).toContain(dataUrl)
  })

  it('keeps event_id whichever options are on, and applies them to dead letters too', () => {
    const plain = build()
    const scrubbed = build({ hashKey: KEY, redactImages: true })
    expect(scrubbed.events.map((e) => e.eventId)).toEqual(plain.events.map((e) => e.eventId))
    const event = decodeChatMessage(scrubbed.events[0]!.value)
    expect(event.event_id).toBe(plain.events[0]!.eventId)
    expect(event.customer_id).toBe(hmacHex(KEY, '573001234567'))
    expect(event.customer_phone).toBe(hmacHex(KEY, '573001234567'))
    expect(event.message).toBe(`mire: <img src="${expectedImage}" alt="x"> y ${expectedImage}`)
    expect(scrubbed.deadLetters).toHaveLength(1)
    const dead = scrubbed.deadLetters[0]!.value.toString()
    expect(dead).not.toContain('573001234567')
    expect(dead).toContain(hmacHex(KEY, '573001234567'))
  })

  it('scrubs raw values at any depth, leaving empty ids and other fields as they are', () => {
    expect(
      scrubRaw(
        { customer_id: '', nested: [{ customer_phone: '57300', note: dataUrl, n: 3 }] },
        { hashKey: KEY, redactImages: true },
      ),
    ).toEqual({
      customer_id: '',
      nested: [{ customer_phone: hmacHex(KEY, '57300'), note: expectedImage, n: 3 }],
    })
  })

  it('gives each event the revision of the values it carries: hashed ids hashed, feeling filled later', () => {
    const plain = build()
    const decoded = decodeChatMessage(plain.events[0]!.value)
    expect(plain.events[0]!.revision).toBe(decoded.revision)
    expect(decoded.revision).toBe(chatMessageRevision(decoded))
    // The message text is not in the revision: redacting images keeps it.
    expect(build({ redactImages: true }).events[0]!.revision).toBe(decoded.revision)
    // Hashed ids: the revision hashes the values published, never the ones received.
    const hashed = build({ hashKey: KEY, redactImages: false })
    const onTopic = decodeChatMessage(hashed.events[0]!.value)
    expect(hashed.events[0]!.revision).toBe(onTopic.revision)
    expect(onTopic.revision).toBe(chatMessageRevision(onTopic))
    expect(onTopic.revision).not.toBe(decoded.revision)
    // Wolkvox fills the feeling after the first read: same event, another revision, hashed or not.
    const [first, ...rest] = chat.conversation
    const later = { ...chat, conversation: [{ ...first, feeling: 'Negative' }, ...rest] }
    for (const privacy of [undefined, { hashKey: KEY, redactImages: false }]) {
      const before = build(privacy).events[0]!
      const after = build(privacy, later).events[0]!
      expect(after.eventId).toBe(before.eventId)
      expect(after.revision).not.toBe(before.revision)
    }
  })
})

describe('POLL_CHAT_MESSAGE_VERSION', () => {
  const factory = (chatMessageVersion?: 1 | 2) =>
    createEventFactory({
      server: '0010',
      report: 'chat_2',
      zone: 'America/Bogota',
      ...(chatMessageVersion === undefined ? {} : { chatMessageVersion }),
    })([chat], { window: { fromMs: 0, toMs: 1000 }, polledAtMs: 5000 })
  // Single-object encoding: C3 01, then the writer schema's fingerprint (8 bytes, little-endian).
  const writer = (value: Buffer) => identifyFingerprint(value.readBigInt64LE(2))

  it('writes ChatMessage v2 with its revision by default, v1 without it on request', () => {
    const [v2] = factory().events
    const [v1] = factory(1).events
    expect(writer(v2!.value)).toBe('ChatMessage v2')
    expect(writer(v1!.value)).toBe('ChatMessage v1')
    expect(decodeChatMessage(v2!.value).revision).toBe(v2!.revision)
    expect(v2!.revision).toMatch(/^[0-9a-f]{16}$/u)
    // A v1 record has no revision on the wire; the poller still remembers it to re-publish.
    expect(decodeChatMessage(v1!.value).revision).toBe('')
    expect(v1!.revision).toBe(v2!.revision)
  })
})
