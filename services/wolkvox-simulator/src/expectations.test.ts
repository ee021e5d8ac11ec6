import { describe, expect, it } from 'vitest'
import { agents, tramites } from './catalog.js'
import {
  createDataset,
  MAX_CHAT_DURATION_SEC,
  planHour,
  RETURN_LAG_HOURS,
  type SimChat,
} from './dataset.js'
import { expectedFcr, plannedTimings, type ChatExpectation } from './expectations.js'
import { agentProfiles } from './profiles.js'

const zone = 'America/Bogota'
const start = Date.parse('2025-02-01T00:00:00Z')
const firstHour = start / 3_600_000
const HOURS = 400
const make = (seed = 3) =>
  createDataset({ seed, chatsPerHour: 60, timeZone: zone, historyStartMs: start })

// About 24,000 chats over 400 hours, starting with the history: every original is in the sample.
const dataset = make()
const chats: SimChat[] = Array.from({ length: HOURS }, (_, i) =>
  dataset.chatsInHour(firstHour + i),
).flat()
const expectations = chats.map((c) => dataset.expectationOf(c))
const expectationOf = new Map(chats.map((c, i) => [c, expectations[i]!]))
const expected = (chat: SimChat): ChatExpectation => expectationOf.get(chat)!
const byConn = new Map(chats.map((c) => [c.fields.conn_id, c]))
const parsed = (chat: SimChat) =>
  chat.messages.map((m) => JSON.parse(m.text) as Record<string, string>)
const isBot = (m: Record<string, string>) => /^chat[ _-]bot$/.test(m.from_name ?? '')
const share = (items: readonly unknown[], of: readonly unknown[]) => items.length / of.length

describe('agent profiles', () => {
  it('has one profile per catalog agent, fast ones, slow ones and one or two who use forbidden expressions', () => {
    expect(agentProfiles.map((p) => p.agent)).toEqual([...agents])
    expect(agentProfiles.filter((p) => p.speed === 'fast').length).toBeGreaterThanOrEqual(3)
    expect(agentProfiles.filter((p) => p.speed === 'slow').length).toBeGreaterThanOrEqual(3)
    expect(agentProfiles.filter((p) => p.forbidden > 0).map((p) => p.agent)).toHaveLength(2)
    for (const p of agentProfiles) {
      if (p.speed === 'slow') expect(p.replySec[0]).toBeGreaterThan(60)
      if (p.speed === 'fast') expect(p.replySec[1]).toBeLessThan(60)
    }
  })

  it('shows in a large sample: slow agents miss a 60 s first response, fast ones make it', () => {
    expect(chats.length).toBeGreaterThan(20_000)
    for (const profile of agentProfiles) {
      const mine = expectations.filter((e) => e.agent_name === profile.agent)
      expect(mine.length).toBeGreaterThan(1_000)
      const firsts = mine.flatMap((e) =>
        e.first_response_ms === null ? [] : [e.first_response_ms],
      )
      const gaps = mine.flatMap((e) => e.response_gaps_ms)
      const late = share(
        firsts.filter((ms) => ms > 60_000),
        firsts,
      )
      const slowGaps = share(
        gaps.filter((ms) => ms > 120_000),
        gaps,
      )
      if (profile.speed === 'slow') {
        expect(late, profile.agent).toBeGreaterThan(0.95)
        expect(slowGaps, profile.agent).toBeGreaterThan(0.6)
      }
      if (profile.speed === 'fast') {
        // Only behind the bot (queue wait plus reply) does a fast agent take over a minute.
        expect(late, profile.agent).toBeLessThan(0.35)
        // Without the bot, over 45 s only when the customer wrote again before any answer.
        const direct = mine.filter((e) => e.handoff_ms === null && e.first_response_ms !== null)
        const quick = direct.filter((e) => (e.first_response_ms as number) <= 45_000)
        expect(share(quick, direct), profile.agent).toBeGreaterThan(0.95)
        expect(
          share(
            gaps.filter((ms) => ms > 120_000),
            gaps,
          ),
          profile.agent,
        ).toBeLessThan(0.02)
      }
    }
  })

  it('skips protocol steps at each agent’s rates', () => {
    for (const profile of agentProfiles) {
      const mine = expectations.filter((e) => e.agent_name === profile.agent)
      const rate = (check: keyof ChatExpectation['checks']) =>
        share(
          mine.filter((e) => !e.checks[check]),
          mine,
        )
      const tolerance = 0.035
      expect(Math.abs(rate('saludo') - profile.skipGreeting), profile.agent).toBeLessThan(tolerance)
      expect(Math.abs(rate('identificacion') - profile.skipIdentity), profile.agent).toBeLessThan(
        tolerance,
      )
      expect(Math.abs(rate('ofrece-ayuda') - profile.skipOffer), profile.agent).toBeLessThan(
        tolerance,
      )
      expect(Math.abs(rate('despedida') - profile.skipFarewell), profile.agent).toBeLessThan(
        tolerance,
      )
      const forbidden = rate('no-expresiones-prohibidas')
      if (profile.forbidden === 0) expect(forbidden, profile.agent).toBe(0)
      else expect(Math.abs(forbidden - profile.forbidden), profile.agent).toBeLessThan(0.02)
    }
  })

  it('writes the protocol lines exactly when planned', () => {
    const greetings = /mi nombre es|le saluda/i
    for (const chat of chats.slice(0, 3_000)) {
      const agentTexts = parsed(chat)
        .filter((m) => m.from === 'AGENT' && !isBot(m))
        .map((m) => m.message ?? '')
      const { checks } = expected(chat)
      expect(agentTexts.some((t) => greetings.test(t))).toBe(checks.saludo)
      expect(
        agentTexts.some((t) => /¿Me confirma su número|me regala su|me indica su/.test(t)),
      ).toBe(checks.identificacion)
      expect(agentTexts.some((t) => /algo más|otra inquietud/.test(t))).toBe(checks['ofrece-ayuda'])
      expect(agentTexts.some((t) => /feliz día|Fue un gusto|hasta pronto/.test(t))).toBe(
        checks.despedida,
      )
    }
  })
})

describe('message times', () => {
  it('follow the plan: first at startSec, last at lastSec, in order, within the cap', () => {
    const wrong = chats.filter((chat) => {
      const { header, messages } = chat
      const expectation = expected(chat)
      const times = messages.map((m) => m.utcSec)
      return !(
        times[0] === header.startSec &&
        times.at(-1) === header.lastSec &&
        messages.length === header.messageCount &&
        times.every((t, i) => i === 0 || t >= times[i - 1]!) &&
        header.lastSec - header.startSec <= MAX_CHAT_DURATION_SEC &&
        expectation.started_at_ms === header.startSec * 1000 &&
        expectation.ended_at_ms === header.lastSec * 1000 &&
        expectation.duration_ms === (header.lastSec - header.startSec) * 1000
      )
    })
    expect(wrong.map((c) => c.fields.conn_id)).toEqual([])
  })

  it('the bot answers in 1–3 s, and the handoff is a queue wait plus the agent’s reply', () => {
    let botAnswers = 0
    for (const chat of chats.slice(0, 5_000)) {
      const messages = parsed(chat)
      messages.forEach((m, i) => {
        if (i > 0 && isBot(m)) {
          const gap = chat.messages[i]!.utcSec - chat.messages[i - 1]!.utcSec
          expect(gap).toBeGreaterThanOrEqual(1)
          expect(gap).toBeLessThanOrEqual(3)
          botAnswers += 1
        }
      })
      const handoff = expected(chat).handoff_ms
      if (!chat.header.hasBot) expect(handoff).toBeNull()
      else if (expected(chat).messages.agent > 0) {
        const reply = agentProfiles[chat.header.agent]!.replySec
        expect(handoff).toBeGreaterThanOrEqual((5 + reply[0]) * 1000)
      }
    }
    expect(botAnswers).toBeGreaterThan(2_000)
  })

  it('keeps the general mix: about 12 messages a chat, idle chats, duplicates and images', () => {
    const messages = chats.reduce((sum, c) => sum + c.messages.length, 0)
    expect(messages / chats.length).toBeGreaterThan(11)
    expect(messages / chats.length).toBeLessThan(13.5)
    const idle = chats.filter((c) => c.header.closeSec - c.header.lastSec > 22 * 3_600)
    expect(share(idle, chats)).toBeGreaterThan(0.05)
    expect(share(idle, chats)).toBeLessThan(0.11)
    expect(chats.filter((c) => c.header.duplicate).length).toBeGreaterThan(1_000)
    expect(chats.filter((c) => c.header.image).length).toBeGreaterThan(400)
  })
})

describe('expected timings', () => {
  it('follow the definitions on a hand-made plan', () => {
    expect(
      plannedTimings(
        [
          'bot',
          'customer',
          'bot',
          'customer',
          'agent',
          'agent',
          'customer',
          'customer',
          'agent',
          'customer',
        ],
        [0, 10, 12, 15, 60, 70, 100, 100, 250, 300],
      ),
    ).toEqual({
      first_response_ms: 50_000,
      handoff_ms: 48_000,
      response_gaps_ms: [50_000, 150_000],
      longest_wait_ms: 150_000,
      last_turn_unanswered: true,
      duration_ms: 300_000,
      messages: { customer: 5, agent: 3, bot: 2, other: 0 },
    })
    expect(plannedTimings(['customer', 'customer'], [5, 9])).toEqual({
      first_response_ms: null,
      handoff_ms: null,
      response_gaps_ms: [],
      longest_wait_ms: null,
      last_turn_unanswered: true,
      duration_ms: 4_000,
      messages: { customer: 2, agent: 0, bot: 0, other: 0 },
    })
  })

  it('count the duplicate and the image as customer messages, bot lines as bot whatever their from', () => {
    for (const chat of chats.slice(0, 5_000)) {
      const messages = parsed(chat)
      const bots = messages.filter(isBot).length
      const agentsWrote = messages.filter((m) => m.from === 'AGENT' && !isBot(m)).length
      expect(expected(chat).messages).toEqual({
        customer: messages.length - bots - agentsWrote,
        agent: agentsWrote,
        bot: bots,
        other: 0,
      })
    }
  })
})

describe('returning customers', () => {
  const returns = expectations.filter((e) => e.return_of !== null)

  it('make about 9 % of the chats, each after its original, with the same customer', () => {
    // The first 240 hours cannot hold every lag's originals: count from there.
    const settled = expectations.filter((e) => e.started_at_ms >= start + 240 * 3_600_000)
    const settledReturns = settled.filter((e) => e.return_of !== null)
    expect(share(settledReturns, settled)).toBeGreaterThan(0.08)
    expect(share(settledReturns, settled)).toBeLessThan(0.1)
    for (const e of returns) {
      const original = byConn.get(e.return_of!.conn_id)
      expect(original, e.conn_id).toBeDefined()
      const o = expected(original!)
      const mine = byConn.get(e.conn_id)!
      expect(e.customer_id).toBe(o.customer_id)
      expect(mine.fields.customer_name).toBe(original!.fields.customer_name)
      expect(parsed(mine)[0]!.channel).toBe(parsed(original!)[0]!.channel)
      expect(e.return_of!.lag_ms).toBe(e.started_at_ms - o.ended_at_ms)
      expect(e.return_of!.lag_ms).toBeGreaterThan(0)
      // A return is never itself an original.
      expect(o.return_of).toBeNull()
    }
  })

  it('return to each original at most once, usually about the same trámite, at lags in and out of 7 days', () => {
    const originals = returns.map((e) => e.return_of!.conn_id)
    expect(new Set(originals).size).toBe(originals.length)
    const returning = new Set(returns.map((e) => e.conn_id))
    expect(originals.some((id) => returning.has(id))).toBe(false)
    const same = returns.filter(
      (e) => e.tramite === expected(byConn.get(e.return_of!.conn_id)!).tramite,
    )
    expect(share(same, returns)).toBeGreaterThan(0.74)
    expect(share(same, returns)).toBeLessThan(0.86)
    const week = 7 * 86_400_000
    const lags = returns.map((e) => e.return_of!.lag_ms)
    expect(
      share(
        lags.filter((l) => l <= week),
        lags,
      ),
    ).toBeGreaterThan(0.6)
    expect(lags.filter((l) => l > week).length).toBeGreaterThan(50)
    expect(Math.min(...lags)).toBeLessThan(3 * 3_600_000)
    expect(Math.max(...lags)).toBeGreaterThan(9 * 86_400_000)
    expect(Math.max(...lags)).toBeLessThanOrEqual((Math.max(...RETURN_LAG_HOURS) + 1) * 3_600_000)
  })

  it('never name a chat from before the history', () => {
    const late = createDataset({
      seed: 3,
      chatsPerHour: 60,
      timeZone: zone,
      historyStartMs: start + 100 * 3_600_000,
    })
    const hours = Array.from({ length: 20 }, (_, i) => firstHour + 101 + i)
    const later = hours.flatMap((hour) => late.chatsInHour(hour))
    const earlier = chats.filter((c) => hours.includes(c.header.hour))
    // The same chats, word for word; only what the truth can name differs.
    expect(later.map((c) => c.messages.map((m) => m.text))).toEqual(
      earlier.map((c) => c.messages.map((m) => m.text)),
    )
    const names = later.map((c) => late.expectationOf(c).return_of)
    const named = names.filter((r) => r !== null)
    expect(named.length).toBeGreaterThan(10)
    for (const r of named) {
      expect(byConn.get(r.conn_id)!.header.startSec).toBeGreaterThanOrEqual(
        start / 1000 + 100 * 3_600,
      )
    }
    const dropped = earlier.filter((c, i) => expected(c).return_of !== null && names[i] === null)
    expect(dropped.length).toBeGreaterThan(10)
    expect(dropped.length + named.length).toBe(
      earlier.filter((c) => expected(c).return_of !== null).length,
    )
  })
})

describe('expectedFcr', () => {
  const windowMs = 7 * 86_400_000
  const returns = expectations.filter((e) => e.return_of !== null)

  it('repeats an original whose return about the same trámite came within the window', () => {
    const nowMs = start + HOURS * 3_600_000
    const outcomes = expectedFcr(expectations, { windowMs, nowMs })
    expect(outcomes.size).toBe(expectations.length)
    const returnOf = new Map(returns.map((r) => [r.return_of!.conn_id, r]))
    for (const e of expectations) {
      const back = returnOf.get(e.conn_id)
      const got = outcomes.get(e.conn_id)!
      if (back !== undefined && back.tramite === e.tramite && back.return_of!.lag_ms <= windowMs) {
        expect(got).toEqual({ outcome: 'repeated', repeatedBy: back.conn_id })
      } else {
        expect(got.outcome).toBe(nowMs > e.ended_at_ms + windowMs ? 'resolved' : 'pending')
      }
    }
    const counts = [...outcomes.values()].reduce<Record<string, number>>((sum, o) => {
      sum[o.outcome] = (sum[o.outcome] ?? 0) + 1
      return sum
    }, {})
    expect(counts.repeated).toBeGreaterThan(500)
    expect(counts.resolved).toBeGreaterThan(5_000)
    expect(counts.pending).toBeGreaterThan(5_000)
  })

  it('knows only the chats it is given, and no identity without a customer_id', () => {
    const e = expectations.find((x) => x.return_of !== null && x.return_of.lag_ms < windowMs)!
    const original = expected(byConn.get(e.return_of!.conn_id)!)
    const alone = expectedFcr([original], { windowMs, nowMs: original.ended_at_ms + windowMs + 1 })
    expect(alone.get(original.conn_id)).toEqual({ outcome: 'resolved' })
    expect(
      expectedFcr([{ ...original, customer_id: ' ' }], { windowMs, nowMs: 0 }).get(
        original.conn_id,
      ),
    ).toEqual({ outcome: 'no_identity' })
  })
})

describe('determinism', () => {
  it('gives the same chats and expectations for the same seed, others for another', () => {
    const hour = firstHour + 300
    const again = make().chatsInHour(hour)
    const before = chats.filter((c) => c.header.hour === hour)
    expect(again.map((c) => c.messages.map((m) => m.text))).toEqual(
      before.map((c) => c.messages.map((m) => m.text)),
    )
    expect(again.map((c) => make().expectationOf(c))).toEqual(before.map(expected))
    expect(planHour(3, 60, hour)).toEqual(planHour(3, 60, hour))
    expect(make(4).chatsInHour(hour)[0]?.messages[0]?.text).not.toBe(again[0]?.messages[0]?.text)
  })

  it('names intended trámites of the catalog', () => {
    expect(new Set(expectations.map((e) => e.tramite))).toEqual(new Set(tramites))
  })
})
