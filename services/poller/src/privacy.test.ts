import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeChatMessage } from '@wolkvox-chat-stream/events'
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

function build(privacy?: { hashKey?: string; redactImages: boolean }) {
  const factory = createEventFactory({
    server: '0010',
    report: 'chat_2',
    zone: 'America/Bogota',
    ...(privacy ? { privacy } : {}),
  })
  return factory([chat], { window: { fromMs: 0, toMs: 1000 }, polledAtMs: 5000 })
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
})
