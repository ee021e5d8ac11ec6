import { describe, expect, it } from 'vitest'
import { createDataset, type SimChat } from './dataset.js'
import type { ExpectedEvent } from './expected-events.js'
import { computeTruth } from './simulator.js'

const zone = 'America/Bogota'
const start = Date.parse('2025-02-01T00:00:00Z')
const settings = {
  seed: 7,
  chatsPerHour: 40,
  timeZone: zone,
  historyStartMs: start,
  visibilityLagMs: 0,
  nowMs: start + 3 * 86_400_000,
}
const DOCUMENTED = new Set([
  'channel',
  'from',
  'from_name',
  'to_name',
  'date',
  'message',
  'customer_id',
  'feeling',
  'customer_phone',
])
const BOTS = new Set(['chat bot', 'chat_bot', 'chat-bot'])
/** Bogotá is UTC-5 all year: a `date` read there, by hand. */
const bogotaMs = (date: string): number => Date.parse(`${date.replace(' ', 'T')}-05:00`)

describe('truth.events', () => {
  const truth = computeTruth(
    { ...settings, selection: 'closing' },
    { dateIni: '20250201000000', dateEnd: '20250201235959' },
  )
  const served = truth.data.flatMap((chat) =>
    chat.conversation.map((m, position) => ({ chat, m, position })),
  )

  it('has one event per served message, with the upstream values exactly as served', () => {
    expect(truth.events).toHaveLength(truth.messageCount)
    expect(truth.messageCount).toBeGreaterThan(4_000)
    truth.events.forEach((e, i) => {
      const { chat, m } = served[i]!
      expect({
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
      }).toEqual({
        conn_id: chat.conn_id,
        agent_name: chat.agent_name,
        customer_name: chat.customer_name,
        channel: m.channel,
        from: m.from,
        from_name: m.from_name,
        to_name: m.to_name,
        date: m.date,
        message: m.message,
        customer_id: m.customer_id,
        feeling: m.feeling ?? null,
        customer_phone: m.customer_phone ?? null,
      })
    })
  })

  it('derives sent_at, position, sender, sentiment, channel and extra as the contract says', () => {
    const seen = { sender: new Set<string>(), sentiment: new Set<string>() }
    truth.events.forEach((e, i) => {
      const { chat, m, position } = served[i]!
      expect(e.sent_at_ms).toBe(bogotaMs(e.date))
      expect([e.position, e.conversation_length]).toEqual([position, chat.conversation.length])
      // A closing-time window returns whole chats.
      expect([e.chat_position, e.chat_length]).toEqual([e.position, e.conversation_length])
      const bot = BOTS.has(e.from_name)
      expect(e.sender).toBe(bot ? 'bot' : e.from === 'CUSTOMER' ? 'customer' : 'agent')
      if (e.feeling === null || e.feeling === '') expect(e.sentiment).toBe('unknown')
      else expect(e.sentiment.replace('_', ' ')).toBe(e.feeling.toLowerCase())
      expect(e.channel_normalized).toBe(e.channel.trim().toLowerCase())
      const extra = Object.fromEntries([
        ...Object.entries(chat)
          .filter(([k]) => !['conn_id', 'agent_name', 'customer_name', 'conversation'].includes(k))
          .map(([k, v]) => [`chat.${String(k)}`, v]),
        ...Object.entries(m).filter(([k]) => !DOCUMENTED.has(k)),
      ])
      expect(e.extra).toEqual(extra)
      seen.sender.add(e.sender)
      seen.sentiment.add(e.sentiment)
    })
    // Every value the generator means to produce is there, so the checks above are not vacuous.
    expect([...seen.sender].sort()).toEqual(['agent', 'bot', 'customer'])
    expect([...seen.sentiment].sort()).toEqual([
      'negative',
      'neutral',
      'positive',
      'unknown',
      'very_negative',
      'very_positive',
    ])
    expect(truth.events.some((e) => e.extra.message_type === 'image')).toBe(true)
    expect(truth.events.some((e) => e.extra['chat.skill_name'] !== undefined)).toBe(true)
    expect(truth.events.some((e) => e.customer_phone !== null)).toBe(true)
  })

  it('counts the second of a duplicate as occurrence 1, right after its twin', () => {
    const twins = truth.events.flatMap((e, i) => (e.occurrence > 0 ? [i] : []))
    expect(twins.length).toBeGreaterThan(10)
    for (const i of twins) {
      const [before, e] = [truth.events[i - 1]!, truth.events[i]!]
      expect(e.occurrence).toBe(1)
      const identity = (x: ExpectedEvent) => [x.conn_id, x.date, x.from, x.from_name, x.message]
      expect(identity(before)).toEqual(identity(e))
      expect(before.occurrence).toBe(0)
    }
  })

  it('numbers positions within the window for a message-time selection', () => {
    const window = computeTruth(
      { ...settings, selection: 'message' },
      { dateIni: '20250201100000', dateEnd: '20250201103000' },
    )
    let at = 0
    let cut = 0
    for (const chat of window.data) {
      const events = window.events.slice(at, at + chat.conversation.length)
      at += chat.conversation.length
      const offset = events[0]!.chat_position
      events.forEach((e, position) => {
        expect([e.position, e.conversation_length]).toEqual([position, chat.conversation.length])
        expect(e.chat_position).toBe(offset + position)
      })
      if (events.length < events[0]!.chat_length) cut += 1
    }
    expect(at).toBe(window.events.length)
    expect(cut).toBeGreaterThan(0)
  })
})

describe('expected events of late chats', () => {
  it('give the values a read before the late data gets, as the pending text serves them', () => {
    const dataset = createDataset({
      seed: 3,
      chatsPerHour: 60,
      timeZone: zone,
      historyStartMs: start,
      lateDataMs: 60_000,
      lateShare: 0.5,
    })
    const chats: SimChat[] = dataset.chatsInHour(start / 3_600_000 + 2)
    let pending = 0
    let lateIds = 0
    for (const chat of chats) {
      const events = dataset.expectedEventsOf({ chat, messages: chat.messages })
      chat.messages.forEach((m, i) => {
        const e = events[i]!
        if (m.pendingText === undefined) {
          expect(e.pending).toBeUndefined()
          return
        }
        const read = JSON.parse(m.pendingText) as Record<string, string | undefined>
        expect(e.pending).toEqual({
          customer_id: read.customer_id,
          feeling: read.feeling ?? null,
          customer_phone: read.customer_phone ?? null,
          sentiment: 'unknown',
        })
        pending += 1
        if (read.customer_id === '') lateIds += 1
      })
    }
    expect(pending).toBeGreaterThan(50)
    expect(lateIds).toBeGreaterThan(0)
  })
})

describe('sent_at where the local time repeats', () => {
  it('is the earlier instant for a message of the second 01:xx of a DST fall-back', () => {
    const york = 'America/New_York'
    // 2025-11-02: 01:00-01:59 EDT (05:00Z-05:59Z), then again in EST (06:00Z-06:59Z).
    const hour = Date.parse('2025-11-02T06:00:00Z') / 3_600_000
    const dataset = createDataset({
      seed: 5,
      chatsPerHour: 60,
      timeZone: york,
      historyStartMs: Date.parse('2025-11-01T00:00:00Z'),
    })
    let repeated = 0
    let plain = 0
    for (const chat of dataset.chatsInHour(hour)) {
      const events = dataset.expectedEventsOf({ chat, messages: chat.messages })
      chat.messages.forEach((m, i) => {
        const e = events[i]!
        const secondPass = m.utcSec >= hour * 3_600 && m.utcSec < (hour + 1) * 3_600
        expect(e.sent_at_ms).toBe(m.utcSec * 1000 - (secondPass ? 3_600_000 : 0))
        if (secondPass) {
          expect(e.date.slice(11, 13)).toBe('01')
          repeated += 1
        } else plain += 1
      })
    }
    expect(repeated).toBeGreaterThan(50)
    expect(plain).toBeGreaterThan(0)
  })
})
