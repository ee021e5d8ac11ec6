import { describe, expect, it } from 'vitest'
import { buildChatMessages, type PollContext } from './chat-message-builder.js'
import { chatMessageRevision, type RevisionFields } from './chat-message-revision.js'

const base: RevisionFields = {
  agent_name: 'María  José Peña',
  customer_name: 'Zoë Álvarez',
  channel: 'WhatsApp ',
  to_name: 'chat bot',
  customer_id: '573001234567',
  feeling: 'Very Positive',
  customer_phone: null,
  extra: {},
}

// Frozen: computed independently with Python,
// sha256(json.dumps(["r1", agent_name, customer_name, channel, to_name, customer_id, feeling,
// customer_phone, [list(p) for p in sorted(extra.items())]], ensure_ascii=False,
// separators=(",", ":")).encode()).hexdigest()[:16].
// A change here gives every message on the topic a new revision: never edit, only add.
describe('chatMessageRevision golden vectors', () => {
  it.each<[string, Partial<RevisionFields>, string]>([
    ['accents, double spaces, a trailing space', {}, '54e090fd00242c37'],
    ['feeling absent (null)', { feeling: null }, '7f599d60d30234a1'],
    ['feeling empty, as before Wolkvox recognises it', { feeling: '' }, '145f5aac76e4f2a8'],
    ['feeling recognised later', { feeling: 'neutral' }, 'ff9e6471fba9545a'],
    ['customer_phone empty', { customer_phone: '' }, '36d44a87ab52fb77'],
    ['customer_phone filled', { customer_phone: '+57 300 000 0000' }, 'b5c5bee80e15bc74'],
    [
      'extra sorted by code point (U+FFFD before an emoji, unlike UTF-16 order)',
      { extra: { tags: '["vip",1]', 'chat.skill': 'ventas', '😀': 'a', '\uFFFD': 'b' } },
      'c03b751513b6c8ba',
    ],
    [
      'quotes, backslash, control characters, slash and U+2028; customer_id empty',
      { to_name: 'line1\nline2\t"q" \\ \u0001 / \u2028', customer_id: '' },
      'baa138dfc8ba8f6f',
    ],
  ])('%s', (_, overrides, expected) => {
    expect(chatMessageRevision({ ...base, ...overrides })).toBe(expected)
  })

  it('tells apart every field it covers, and null, "" and a value of feeling', () => {
    const fields = [
      'agent_name',
      'customer_name',
      'channel',
      'to_name',
      'customer_id',
      'feeling',
      'customer_phone',
    ] as const
    const revisions = new Set([chatMessageRevision(base)])
    for (const field of fields) revisions.add(chatMessageRevision({ ...base, [field]: 'other' }))
    revisions.add(chatMessageRevision({ ...base, feeling: null }))
    revisions.add(chatMessageRevision({ ...base, feeling: '' }))
    revisions.add(chatMessageRevision({ ...base, extra: { k: 'v' } }))
    revisions.add(chatMessageRevision({ ...base, extra: { k: 'w' } }))
    expect(revisions.size).toBe(fields.length + 5)
  })

  it('does not depend on the order of extra, nor on its prototype', () => {
    const sorted = chatMessageRevision({ ...base, extra: { a: '1', b: '2' } })
    expect(chatMessageRevision({ ...base, extra: { b: '2', a: '1' } })).toBe(sorted)
    const bare = Object.assign(Object.create(null) as Record<string, string>, { b: '2', a: '1' })
    expect(chatMessageRevision({ ...base, extra: bare })).toBe(sorted)
  })
})

describe('revision of built events', () => {
  const context = (polledAt: string): PollContext => ({
    server: '0010',
    zone: 'America/Bogota',
    window: { start: new Date('2025-02-11T15:00:00Z'), end: new Date('2025-02-11T15:29:59Z') },
    polledAt: new Date(polledAt),
  })
  const message = (i: number, overrides: Record<string, unknown> = {}) => ({
    channel: 'whatsapp',
    from: i % 2 ? 'AGENT' : 'CUSTOMER',
    from_name: i % 2 ? 'Ana' : 'Zoë',
    to_name: i % 2 ? 'Zoë' : 'Ana',
    date: `2025-02-11 10:22:3${i}`,
    message: `mensaje ${i}`,
    customer_id: '573001234567',
    feeling: '',
    ...overrides,
  })
  const chat = (conversation: unknown[], overrides: Record<string, unknown> = {}) => ({
    conn_id: 'CH-1',
    agent_name: 'Ana',
    customer_name: 'Zoë',
    skill_name: 'ventas',
    conversation,
    ...overrides,
  })

  it('is what chatMessageRevision gives over the event, chat-level extra fields included', () => {
    const { events } = buildChatMessages(
      chat([message(0, { tags: 'x' })]),
      context('2025-02-11T15:35:00Z'),
    )
    const event = events[0]!
    expect(event.extra).toEqual({ 'chat.skill_name': 'ventas', tags: 'x' })
    expect(event.revision).toBe(chatMessageRevision(event))
    expect(event.revision).toMatch(/^[0-9a-f]{16}$/)
  })

  it('stays the same when the chat grows and the poll is later, and changes with a late feeling', () => {
    const first = buildChatMessages(chat([message(0), message(1)]), context('2025-02-11T15:35:00Z'))
    const grown = buildChatMessages(
      chat([message(0), message(1), message(2), message(3)]),
      context('2025-02-11T15:40:00Z'),
    )
    expect(grown.events.slice(0, 2).map((e) => [e.event_id, e.revision])).toEqual(
      first.events.map((e) => [e.event_id, e.revision]),
    )
    expect(grown.events[1]!.conversation_length).not.toBe(first.events[1]!.conversation_length)

    const felt = buildChatMessages(
      chat([message(0, { feeling: 'negative' }), message(1, { customer_id: 'late-id' })]),
      context('2025-02-11T15:45:00Z'),
    )
    expect(felt.events.map((e) => e.event_id)).toEqual(first.events.map((e) => e.event_id))
    expect(felt.events[0]!.revision).not.toBe(first.events[0]!.revision)
    expect(felt.events[1]!.revision).not.toBe(first.events[1]!.revision)
  })

  it('changes when a chat-level field is corrected, for every message of the chat', () => {
    const before = buildChatMessages(
      chat([message(0), message(1)]),
      context('2025-02-11T15:35:00Z'),
    )
    const after = buildChatMessages(
      chat([message(0), message(1)], { agent_name: 'Ana María' }),
      context('2025-02-11T15:35:00Z'),
    )
    for (const [i, event] of after.events.entries()) {
      expect(event.event_id).toBe(before.events[i]!.event_id)
      expect(event.revision).not.toBe(before.events[i]!.revision)
    }
  })
})
