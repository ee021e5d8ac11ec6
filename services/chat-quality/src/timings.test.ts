import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Sender } from '@wolkvox-chat-stream/keyword-rules'
import { conversationTimings, standardsMet, type TimedMessage } from './timings.js'

const S = 1000
/** A conversation from `[sender, seconds after start]` pairs, positions in the order given. */
const chat = (...steps: [Sender, number][]): TimedMessage[] =>
  steps.map(([sender, s], position) => ({ position, sender, sentAtMs: 1_700_000_000_000 + s * S }))

describe('conversationTimings', () => {
  it('measures a bot handoff, the first response and every customer turn', () => {
    const t = conversationTimings(
      chat(
        ['customer', 0], // hola
        ['bot', 2], // menu
        ['customer', 10], // opción 2
        ['bot', 12], // transfiero
        ['agent', 70], // buenos días: answers the turn opened at 0
        ['customer', 80],
        ['customer', 95],
        ['agent', 200], // answers the turn opened at 80
        ['customer', 260], // left unanswered
      ),
    )
    expect(t).toEqual({
      firstResponseMs: 70 * S,
      handoffMs: 58 * S,
      responseGapsMs: [70 * S, 120 * S],
      longestWaitMs: 120 * S,
      lastTurnUnanswered: true,
      durationMs: 260 * S,
      messages: { customer: 5, agent: 2, bot: 2, other: 0 },
    })
  })

  it('has no first response when no agent answered, and no handoff without a bot', () => {
    const t = conversationTimings(chat(['agent', 0], ['customer', 5], ['other', 9]))
    expect(t.firstResponseMs).toBeNull()
    expect(t.handoffMs).toBeNull()
    expect(t.responseGapsMs).toEqual([])
    expect(t.longestWaitMs).toBeNull()
    expect(t.lastTurnUnanswered).toBe(true)
  })

  it('counts a clock running backwards as an immediate answer', () => {
    expect(conversationTimings(chat(['customer', 10], ['agent', 8])).firstResponseMs).toBe(0)
  })

  it('refuses an empty conversation', () => {
    expect(() => conversationTimings([])).toThrow(/at least one message/)
  })

  const message = fc.record({
    sender: fc.constantFrom<Sender>('customer', 'agent', 'bot', 'other'),
    seconds: fc.integer({ min: 0, max: 3600 }),
  })
  const conversation = fc
    .array(message, { minLength: 1, maxLength: 30 })
    .map((ms) =>
      [...ms]
        .sort((a, b) => a.seconds - b.seconds)
        .map((m, position) => ({ position, sender: m.sender, sentAtMs: m.seconds * S })),
    )

  it('gives the same figures whatever order the messages arrive in', () => {
    fc.assert(
      fc.property(conversation, fc.integer(), (messages, seed) => {
        const shuffled = [...messages].sort(
          (a, b) => ((a.position * 7919 + seed) % 31) - ((b.position * 7919 + seed) % 31),
        )
        expect(conversationTimings(shuffled)).toEqual(conversationTimings(messages))
      }),
      { numRuns: 1000 },
    )
  })

  it('agrees with itself: the first gap is the first response, the gaps are bounded by the duration', () => {
    fc.assert(
      fc.property(conversation, (messages) => {
        const t = conversationTimings(messages)
        expect(t.firstResponseMs).toBe(t.responseGapsMs[0] ?? null)
        for (const gap of t.responseGapsMs) expect(gap).toBeLessThanOrEqual(t.durationMs)
        expect(Object.values(t.messages).reduce((a, b) => a + b, 0)).toBe(messages.length)
        const answered = t.responseGapsMs.length + (t.lastTurnUnanswered ? 1 : 0)
        expect(answered).toBeLessThanOrEqual(t.messages.customer)
        expect(answered > 0).toBe(t.messages.customer > 0)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('standardsMet', () => {
  const standards = { firstResponseTargetMs: 60 * S, responseGapTargetMs: 120 * S }

  it('holds the first response and every turn to their targets', () => {
    const met = (...steps: [Sender, number][]) =>
      standardsMet(conversationTimings(chat(...steps)), standards)
    expect(met(['customer', 0], ['agent', 60], ['customer', 70], ['agent', 190])).toEqual({
      firstResponse: true,
      responseGaps: true,
    })
    expect(met(['customer', 0], ['agent', 61])).toEqual({
      firstResponse: false,
      responseGaps: true,
    })
    expect(met(['customer', 0], ['agent', 30], ['customer', 40], ['agent', 161])).toEqual({
      firstResponse: true,
      responseGaps: false,
    })
    // A last turn left unanswered (a closing "gracias") is not a gap…
    expect(met(['customer', 0], ['agent', 30], ['customer', 40])).toEqual({
      firstResponse: true,
      responseGaps: true,
    })
    // …but a customer no agent ever answered fails both.
    expect(met(['customer', 0], ['bot', 1])).toEqual({ firstResponse: false, responseGaps: false })
    expect(met(['agent', 0], ['bot', 5])).toEqual({ firstResponse: null, responseGaps: null })
  })
})
