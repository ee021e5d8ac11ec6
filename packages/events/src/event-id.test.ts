import { describe, expect, it } from 'vitest'
import { buildChatMessages } from './chat-message-builder.js'
import { eventId, type EventIdParts } from './event-id.js'

const base: EventIdParts = {
  server: '0010',
  report: 'chat_2',
  conn_id: 'CH-1',
  date: '2025-02-11 10:22:33',
  from: 'CUSTOMER',
  from_name: 'Zoë Álvarez',
  message: 'Hola',
  occurrence: 0,
}

// Frozen: computed independently with Python,
// sha256(json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()[:32].
// A change here changes every event_id on the topic: never edit, only add.
describe('eventId golden vectors', () => {
  it.each<[string, EventIdParts, string]>([
    ['a plain message, accents in the name', base, 'a48c6e942364925d7614230b1395714c'],
    [
      'the second identical message',
      { ...base, occurrence: 1 },
      '05b09c46e8af1e84cf4de0e360cc97da',
    ],
    [
      'server "10" is not server "0010"',
      { ...base, server: '10' },
      '0782008c1386cffc2698faa05595f75f',
    ],
    [
      'emoji with a skin tone, HTML, inner double spaces',
      {
        ...base,
        date: '2025-02-11 10:22:34',
        from: 'AGENT',
        from_name: 'María  José',
        message: '¡Listo! 👍🏽 <a href="https://x/y">ver</a>',
      },
      'c5268b442b87ccb55ebaa8d52a31c258',
    ],
    [
      'quotes, backslash, control characters, slash and U+2028',
      {
        ...base,
        server: '3211',
        conn_id: 'CH-2',
        date: '2025-02-11 10:22:35',
        from_name: 'Bob',
        message: 'line1\nline2\t"q" \\ \u0001 / \u2028',
      },
      'e06553c8784325354b2bac3181fadcf2',
    ],
  ])('%s', (_, parts, expected) => {
    expect(eventId(parts)).toBe(expected)
  })

  it('is exact about text: a decomposed accent is another message', () => {
    const nfd = { ...base, from_name: base.from_name.normalize('NFD') }
    expect(eventId(nfd)).not.toBe(eventId(base))
  })

  it('is what the builder gives repeated identical messages in one chat', () => {
    const message = {
      channel: 'whatsapp',
      from: base.from,
      from_name: base.from_name,
      to_name: 'Ana',
      date: base.date,
      message: base.message,
      customer_id: '57300',
    }
    const { events } = buildChatMessages(
      {
        conn_id: base.conn_id,
        agent_name: 'Ana',
        customer_name: 'Zoë',
        conversation: [message, { ...message, to_name: 'changed' }, message],
      },
      {
        server: '0010',
        zone: 'America/Bogota',
        window: { start: new Date(0), end: new Date(0) },
        polledAt: new Date(0),
      },
    )
    expect(events.map((e) => e.event_id)).toEqual([
      'a48c6e942364925d7614230b1395714c',
      '05b09c46e8af1e84cf4de0e360cc97da',
      eventId({ ...base, occurrence: 2 }),
    ])
  })
})
