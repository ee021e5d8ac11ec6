/*
 * What a dead letter says, how deep a rejected row's raw JSON is cut, and when two messages are
 * the same message: exact values, each case failing when one comparison, bound or text of the
 * builder is changed (found by mutation testing, README: Mutation testing).
 */
import { describe, expect, it } from 'vitest'
import { buildChatMessages, isBotSpelling } from './chat-message-builder.js'
import { eventId } from './event-id.js'
import { chat, context, message } from './builder-fixtures.test-support.js'

/** A text inside `levels` objects (arrays when `arrays`), one in the other. */
function nested(levels: number, arrays = false): unknown {
  let value: unknown = 'leaf'
  for (let i = 0; i < levels; i++) value = arrays ? [value] : { k: value }
  return value
}

/** How many arrays or objects deep `value` goes, and what it holds at the bottom. */
function depthOf(value: unknown): { depth: number; bottom: unknown; arrays: boolean } {
  let depth = 0
  let arrays = true
  let current = value
  while (typeof current === 'object' && current !== null) {
    depth++
    arrays &&= Array.isArray(current)
    current = Array.isArray(current) ? current[0] : (current as { k: unknown }).k
  }
  return { depth, bottom: current, arrays }
}

const NOTE = '[nested more than 64 levels deep]'

describe('what a rejected row says', () => {
  it('names the chat and the reason, exactly, for a whole chat', () => {
    const whyOf = (raw: unknown): [string, unknown] => {
      const { rejected } = buildChatMessages(raw, context)
      expect(rejected).toHaveLength(1)
      return [rejected[0]!.error.message, rejected[0]!.error.details]
    }
    expect(whyOf('x')).toEqual([
      'A chat is not a JSON object',
      { field: 'chat', conn_id: null, position: null },
    ])
    expect(whyOf(chat([], { conn_id: null }))).toEqual([
      'A chat has no conn_id',
      { field: 'conn_id', conn_id: null, position: null },
    ])
    expect(whyOf(chat([], { conversation: 'none' }))).toEqual([
      'Chat CH-1 has no conversation array',
      { field: 'conversation', conn_id: 'CH-1', position: null },
    ])
    expect(whyOf(chat([], { customer_name: null }))).toEqual([
      'Chat CH-1 has no customer_name',
      { field: 'customer_name', conn_id: 'CH-1', position: null },
    ])
  })

  it('names the message, its position and the reason, exactly', () => {
    const { events, rejected } = buildChatMessages(
      chat([
        7,
        { deep: nested(70) },
        message({ to_name: undefined }),
        message({ date: '2025-02-30 10:00:00' }),
        message(),
      ]),
      context,
    )
    expect(events.map((e) => e.position)).toEqual([4])
    expect(rejected.map((r) => [r.error.message, r.error.details])).toEqual([
      [
        'Chat CH-1, message 0: not a JSON object',
        { field: 'conversation', conn_id: 'CH-1', position: 0 },
      ],
      [
        'Chat CH-1, message 1: nests more than 64 levels',
        { field: 'conversation', conn_id: 'CH-1', position: 1 },
      ],
      ['Chat CH-1, message 2: no to_name', { field: 'to_name', conn_id: 'CH-1', position: 2 }],
      [
        'Chat CH-1, message 3: date is not YYYY-MM-DD HH:MM:SS',
        { field: 'date', conn_id: 'CH-1', position: 3 },
      ],
    ])
  })

  it('names a field that nests too deeply, with the conn_id when it can be written', () => {
    const reasons = [
      chat([], { tags: nested(64) }),
      chat([], { conn_id: null, tags: nested(64) }),
      chat([], { conn_id: undefined, tags: nested(64) }),
      chat([], { conn_id: nested(64), tags: nested(64) }),
    ].map((raw) => {
      const { events, rejected } = buildChatMessages(raw, context)
      expect(events).toEqual([])
      return [rejected[0]!.error.message, rejected[0]!.conn_id]
    })
    expect(reasons).toEqual([
      ['Chat CH-1: tags nests more than 64 levels', 'CH-1'],
      ['Chat (no conn_id): tags nests more than 64 levels', null],
      ['Chat (no conn_id): tags nests more than 64 levels', null],
      ['Chat (no conn_id): conn_id nests more than 64 levels', null],
    ])
    // 63 levels under the chat (64 with it) is still a chat.
    expect(buildChatMessages(chat([message()], { tags: nested(63) }), context).events).toHaveLength(
      1,
    )
  })
})

describe('how deep a message may nest', () => {
  it('takes a message 62 levels deep (64 with its chat and conversation), not 63', () => {
    const { events, rejected } = buildChatMessages(
      chat([message({ deep: nested(61) }), message({ deep: nested(62), message: 'b' })]),
      context,
    )
    expect(events.map((e) => e.position)).toEqual([0])
    expect(rejected.map((r) => [r.position, r.error.message])).toEqual([
      [1, 'Chat CH-1, message 1: nests more than 64 levels'],
    ])
  })
})

describe("a rejected row's raw JSON", () => {
  it('is cut at 64 levels, the note at the 65th, arrays kept as arrays', () => {
    for (const arrays of [false, true]) {
      const raw = chat([], { tags: nested(80, arrays) })
      const { rejected } = buildChatMessages(raw, context)
      const tags = (rejected[0]!.raw as { tags: unknown }).tags
      // The chat is level 1, so its field keeps 63 levels, the note in place of the 64th.
      expect(depthOf(tags)).toEqual({ depth: 63, bottom: NOTE, arrays })
    }
    // A message's raw: the message is level 3 of its chat.
    const { rejected } = buildChatMessages(chat([{ deep: nested(80, true) }]), context)
    const deep = (rejected[0]!.raw as { deep: unknown }).deep
    expect(depthOf(deep)).toEqual({ depth: 61, bottom: NOTE, arrays: true })
  })

  it('is the value itself when it is not too deep', () => {
    const raw = chat([], { conversation: 'none', tags: nested(10) })
    expect(buildChatMessages(raw, context).rejected[0]!.raw).toBe(raw)
  })
})

describe('the occurrence of a message', () => {
  const idOf = (m: Record<string, unknown>, occurrence: number): string =>
    eventId({
      server: '0010',
      report: 'chat_2',
      conn_id: 'CH-1',
      date: String(m.date),
      from: String(m.from),
      from_name: String(m.from_name),
      message: String(m.message),
      occurrence,
    })

  it('counts only earlier messages equal in date, from, from_name and text', () => {
    const same = message()
    const others = [
      message({ from: 'AGENT' }),
      message({ from_name: 'Ana' }),
      message({ message: 'adiós' }),
      message({ date: '2025-02-11 10:22:34' }),
    ]
    const { events } = buildChatMessages(chat([same, ...others, same, same]), context)
    expect(events.map((e) => e.event_id)).toEqual([
      idOf(same, 0),
      ...others.map((m) => idOf(m, 0)),
      idOf(same, 1),
      idOf(same, 2),
    ])
  })
})

describe('feeling', () => {
  it('reads a null or absent feeling as sentiment unknown, and keeps it null', () => {
    const { events } = buildChatMessages(
      chat([message({ feeling: null }), message({ message: 'b' })]),
      context,
    )
    expect(events.map((e) => [e.feeling, e.sentiment])).toEqual([
      [null, 'unknown'],
      [null, 'unknown'],
    ])
  })
})

describe('bot spellings', () => {
  it('joins words by space, underscore or dash, but does not drop the separators', () => {
    for (const spelling of ['chat bot', 'CHAT_BOT', 'Chat-Bot', ' chatbot ', 'chat _- bot'])
      expect(isBotSpelling(spelling), spelling).toBe(true)
    for (const spelling of ['b-o-t', 'b o t', 'c hatbot', 'chat  bots'])
      expect(isBotSpelling(spelling), spelling).toBe(false)
  })
})
