import { describe, expect, it } from 'vitest'
import { createDataset, MAX_CHAT_LIFETIME_SEC, type SimChat } from './dataset.js'
import { parseCompact, toLocalSec } from './wall-clock.js'

const zone = 'America/Bogota'
const start = Date.parse('2025-02-01T00:00:00Z')
const firstHour = start / 3_600_000
const make = (seed = 1, chatsPerHour = 60) =>
  createDataset({ seed, chatsPerHour, timeZone: zone, historyStartMs: start })

const parsed = (chat: SimChat) =>
  chat.messages.map((m) => JSON.parse(m.text) as Record<string, string>)

function twoDays(): SimChat[] {
  const dataset = make()
  return Array.from({ length: 48 }, (_, i) => dataset.chatsInHour(firstHour + i)).flat()
}

describe('generated chats', () => {
  const chats = twoDays()
  const messages = chats.flatMap(parsed)

  it('has about chatsPerHour chats per hour, each with unique conn_id', () => {
    expect(chats.length).toBeGreaterThan(48 * 60 * 0.85)
    expect(chats.length).toBeLessThan(48 * 60 * 1.15)
    expect(new Set(chats.map((c) => c.fields.conn_id)).size).toBe(chats.length)
  })

  it('is the same for the same seed and differs for another', () => {
    const again = make().chatsInHour(firstHour + 5)
    expect(again.map((c) => c.messages.map((m) => m.text))).toEqual(
      twoDays()
        .filter((c) => c.header.hour === firstHour + 5)
        .map((c) => c.messages.map((m) => m.text)),
    )
    expect(make(2).chatsInHour(firstHour + 5)[0]?.messages[0]?.text).not.toBe(
      again[0]?.messages[0]?.text,
    )
  })

  it('carries every feeling, capitalised ones, empty and missing, or customer_phone instead', () => {
    const values = new Set(messages.map((m) => m.feeling))
    for (const feeling of [
      'very negative',
      'negative',
      'neutral',
      'positive',
      'very positive',
      '',
      'Very Negative',
    ]) {
      expect(values).toContain(feeling)
    }
    expect(messages.some((m) => !('feeling' in m) && !('customer_phone' in m))).toBe(true)
    expect(messages.some((m) => 'customer_phone' in m && !('feeling' in m))).toBe(true)
  })

  it('writes Spanish with accents, emoji, HTML links and the occasional base64 image', () => {
    const texts = messages.map((m) => m.message ?? '')
    expect(texts.some((t) => /[áéíóúñ¿¡]/.test(t))).toBe(true)
    expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true)
    expect(texts.some((t) => t.includes('<a href="https://'))).toBe(true)
    const images = messages.filter((m) => m.message?.includes('data:image/png;base64,'))
    expect(images.length).toBeGreaterThan(0)
    expect(
      images.every((m) => m.message_type === 'image' && (m.message ?? '').length > 2_000),
    ).toBe(true)
    for (const word of [
      'certificado',
      'factura',
      'actualizar',
      'solicitud',
      'cancelar',
      'queja',
      'cita',
    ]) {
      expect(texts.some((t) => t.toLowerCase().includes(word))).toBe(true)
    }
  })

  it('has names with double spaces and odd casing, and all three bot spellings', () => {
    const names = chats.flatMap((c) => [c.fields.customer_name ?? '', c.fields.agent_name ?? ''])
    expect(names.some((n) => n.includes('  '))).toBe(true)
    expect(names.some((n) => n === n.toUpperCase() && /[A-Z]/.test(n))).toBe(true)
    expect(names.some((n) => n === n.toLowerCase())).toBe(true)
    const bots = new Set(messages.flatMap((m) => [m.to_name, m.from_name]))
    for (const bot of ['chat bot', 'chat_bot', 'chat-bot']) expect(bots).toContain(bot)
    expect(new Set(messages.map((m) => m.from))).toEqual(new Set(['AGENT', 'CUSTOMER', 'BOT']))
  })

  it('uses undocumented channels and spellings as real data does', () => {
    const channels = new Set(messages.map((m) => m.channel))
    for (const channel of [
      'whatsapp',
      'telegram',
      'facebook_page',
      'whatsapp official direct',
      'WhatsApp',
    ]) {
      expect(channels).toContain(channel)
    }
  })

  it('repeats a message identically (same date) inside a chat', () => {
    const repeated = chats.filter((chat) => {
      const texts = chat.messages.map((m) => m.text)
      return texts.some((t, i) => t === texts[i + 1])
    })
    expect(repeated.length).toBeGreaterThan(0)
  })

  it('has chats that cross local midnight and idle chats that close about a day later', () => {
    const crossing = chats.filter((c) => {
      const dates = parsed(c).map((m) => m.date?.slice(0, 10))
      return new Set(dates).size > 1
    })
    expect(crossing.length).toBeGreaterThan(0)
    const idle = chats.filter((c) => c.header.closeSec - c.header.lastSec > 22 * 3_600)
    expect(idle.length).toBeGreaterThan(0)
    expect(chats.every((c) => c.header.closeSec - c.header.startSec <= MAX_CHAT_LIFETIME_SEC)).toBe(
      true,
    )
  })

  it('keeps messages in time order with dates in the zone', () => {
    for (const chat of chats.slice(0, 200)) {
      const times = chat.messages.map((m) => m.utcSec)
      expect([...times].sort((a, b) => a - b)).toEqual(times)
      const first = parsed(chat)[0]
      expect(parseCompact(first!.date!.replace(/[- :]/g, ''))).toBe(toLocalSec(times[0]!, zone))
    }
  })
})

describe('select', () => {
  const dataset = make()
  const local = (text: string): number => parseCompact(text)!
  const visibleUntilSec = Date.parse('2025-02-10T00:00:00Z') / 1000
  const window = (from: string, to: string, selection: 'closing' | 'message') =>
    dataset.select({ fromLocalSec: local(from), toLocalSec: local(to), selection, visibleUntilSec })

  it('selects by closing time with both bounds inclusive, whole conversations', () => {
    const day = window('20250203000000', '20250203235959', 'closing')
    expect(day.length).toBeGreaterThan(1_000)
    for (const { chat, messages } of day) {
      const close = toLocalSec(chat.header.closeSec, zone)
      expect(close).toBeGreaterThanOrEqual(local('20250203000000'))
      expect(close).toBeLessThanOrEqual(local('20250203235959'))
      expect(messages).toBe(chat.messages)
    }
    const edge = day[0]!.chat
    const closeText = new Date(toLocalSec(edge.header.closeSec, zone) * 1000)
      .toISOString()
      .replace(/\D/g, '')
      .slice(0, 14)
    expect(window(closeText, closeText, 'closing').map((s) => s.chat.fields.conn_id)).toContain(
      edge.fields.conn_id,
    )
    // Messages of a chat closed on the 3rd may be from the 2nd (idle chats close a day later).
    expect(
      day.some(({ messages }) =>
        (JSON.parse(messages[0]!.text) as { date: string }).date.startsWith('2025-02-02'),
      ),
    ).toBe(true)
  })

  it('selects by message time: only messages inside the window, bounds inclusive', () => {
    const hour = window('20250203100000', '20250203105959', 'message')
    const dates = hour.flatMap(({ messages }) =>
      messages.map((m) => JSON.parse(m.text).date as string),
    )
    expect(dates.length).toBeGreaterThan(100)
    expect(dates.every((d) => d >= '2025-02-03 10:00:00' && d <= '2025-02-03 10:59:59')).toBe(true)
  })

  it('splits without loss: adjacent windows add up to the whole, in both selections', () => {
    for (const selection of ['closing', 'message'] as const) {
      const count = (from: string, to: string): number =>
        window(from, to, selection).reduce((sum, s) => sum + s.messages.length, 0)
      const whole = count('20250203000000', '20250203235959')
      expect(
        count('20250203000000', '20250203113059') + count('20250203113100', '20250203235959'),
      ).toBe(whole)
    }
  })

  it('serves nothing not yet visible and nothing before the history', () => {
    const late = dataset.select({
      fromLocalSec: local('20250203000000'),
      toLocalSec: local('20250203235959'),
      selection: 'message',
      visibleUntilSec: Date.parse('2025-02-03T17:00:00Z') / 1000,
    })
    const dates = late.flatMap(({ messages }) => messages.map((m) => m.utcSec))
    expect(Math.max(...dates)).toBeLessThanOrEqual(Date.parse('2025-02-03T17:00:00Z') / 1000)
    expect(window('20250101000000', '20250130235959', 'message')).toEqual([])
  })

  it('gives the same data whatever its cache limits, writing again what it dropped', () => {
    const tiny = createDataset(
      { seed: 1, chatsPerHour: 60, timeZone: zone, historyStartMs: start },
      { headerHours: 1, chatMessages: 1 },
    )
    const query = (from: string, to: string) => ({
      fromLocalSec: local(from),
      toLocalSec: local(to),
      selection: 'closing' as const,
      visibleUntilSec,
    })
    const texts = (selected: ReturnType<typeof dataset.select>) =>
      selected.map(({ chat, messages }) => [chat.head, ...messages.map((m) => m.text)])
    const day = query('20250203000000', '20250203235959')
    const hour = query('20250203100000', '20250203105959')
    const first = tiny.select(day)
    expect(texts(tiny.select(hour))).toEqual(texts(dataset.select(hour)))
    const again = tiny.select(day)
    expect(texts(again)).toEqual(texts(first))
    expect(texts(again)).toEqual(texts(dataset.select(day)))
    // The tiny cache kept nothing: the chats were written again; the default one keeps them.
    expect(again[0]!.chat).not.toBe(first[0]!.chat)
    expect(dataset.select(day)[0]!.chat).toBe(dataset.select(day)[0]!.chat)
  })

  it('stops writing chats once a budget of records is met', () => {
    const some = dataset.select(
      {
        fromLocalSec: local('20250203000000'),
        toLocalSec: local('20250203235959'),
        selection: 'closing',
        visibleUntilSec,
      },
      { records: 100, unit: 'message' },
    )
    const messages = some.reduce((sum, s) => sum + s.messages.length, 0)
    expect(messages).toBeGreaterThanOrEqual(100)
    expect(messages - some.at(-1)!.messages.length).toBeLessThan(100)
  })
})

describe('late data', () => {
  // Longer than the 2-hour window: a read just after its last chat closed finds every one pending.
  const lateDataMs = 3 * 3_600_000
  const late = (lateShare?: number) =>
    createDataset({
      seed: 1,
      chatsPerHour: 60,
      timeZone: zone,
      historyStartMs: start,
      lateDataMs,
      ...(lateShare === undefined ? {} : { lateShare }),
    })
  const local = (text: string): number => parseCompact(text) as number
  const query = (lateAtSec?: number) => ({
    fromLocalSec: local('20250203100000'),
    toLocalSec: local('20250203115959'),
    selection: 'closing' as const,
    visibleUntilSec: Date.parse('2025-02-05T00:00:00Z') / 1000,
    ...(lateAtSec === undefined ? {} : { lateAtSec }),
  })
  const texts = (selected: ReturnType<ReturnType<typeof late>['select']>) =>
    selected.map(({ messages }) => messages.map((m) => m.text))

  it('has the same final data as without late data, and the truth is the final data', () => {
    const final = texts(make().select(query()))
    expect(final.length).toBeGreaterThan(50)
    expect(texts(late().select(query()))).toEqual(final)
    expect(texts(late().select(query(Date.parse('2025-02-04T00:00:00Z') / 1000)))).toEqual(final)
  })

  it('serves feeling (and for some chats customer_id) empty until lateDataMs after closing', () => {
    const dataset = late()
    const closed = dataset.select(query())
    const lastClose = Math.max(...closed.map(({ chat }) => chat.header.closeSec))
    // Read just after the last chat closed: every chat is still pending.
    const early = dataset.select(query(lastClose + 1))
    const parsedOf = (selected: typeof early) =>
      selected.flatMap(({ messages }) =>
        messages.map((m) => JSON.parse(m.text) as Record<string, string>),
      )
    const before = parsedOf(early)
    const after = parsedOf(closed)
    expect(before).toHaveLength(after.length)
    const pending = early.flatMap(({ messages }) => messages.filter((m) => m.pending === true))
    expect(pending.length).toBeGreaterThan(after.length / 2)
    expect(before.every((m) => m.feeling === undefined || m.feeling === '')).toBe(true)
    expect(after.filter((m) => (m.feeling ?? '') !== '').length).toBeGreaterThan(after.length / 2)
    const idsFilledLate = before.filter((m, i) => m.customer_id !== after[i]!.customer_id)
    expect(idsFilledLate.length).toBeGreaterThan(0)
    expect(idsFilledLate.every((m) => m.customer_id === '')).toBe(true)
    expect(idsFilledLate.length).toBeLessThan(after.length)
    // Only feeling, customer_id and customer_phone differ; the message identity never does.
    before.forEach((m, i) => {
      const { feeling: _f, customer_id: _c, customer_phone: _p, ...rest } = m
      const { feeling: _g, customer_id: _d, customer_phone: _q, ...restAfter } = after[i]!
      expect(rest).toEqual(restAfter)
      expect(Object.keys(m)).toEqual(Object.keys(after[i]!))
    })

    // Exactly at closing + lateDataMs the final values are there, chat by chat (chats whose
    // pending texts differ: not those without feelings whose customer_id comes on time).
    const changing = closed.filter(({ chat }) => chat.messages.some((m) => m.pendingText))
    for (const { chat } of changing.slice(0, 5)) {
      const at = chat.header.closeSec + lateDataMs / 1000
      const one = (sec: number) =>
        dataset
          .select(query(sec))
          .find((s) => s.chat.fields.conn_id === chat.fields.conn_id)!
          .messages.map((m) => m.text)
      expect(one(at)).toEqual(chat.messages.map((m) => m.text))
      expect(one(at - 1)).not.toEqual(chat.messages.map((m) => m.text))
    }
  })

  it('picks the late chats by the seed, about lateShare of them', () => {
    const chats = late(0.3).select(query())
    const lateOnes = chats.filter(({ chat }) => chat.late).map(({ chat }) => chat.fields.conn_id)
    expect(lateOnes.length).toBeGreaterThan(chats.length * 0.1)
    expect(lateOnes.length).toBeLessThan(chats.length * 0.5)
    expect(
      late(0.3)
        .select(query())
        .filter(({ chat }) => chat.late)
        .map(({ chat }) => chat.fields.conn_id),
    ).toEqual(lateOnes)
    expect(
      late(0)
        .select(query())
        .some(({ chat }) => chat.late),
    ).toBe(false)
    expect(
      make()
        .select(query())
        .some(({ chat }) => chat.late),
    ).toBe(false)
  })
})
