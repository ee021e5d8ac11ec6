/*
 * The simulator's expectations (known by construction) against this service's functions, over a
 * few thousand generated chats: the timings and protocol checks must agree exactly, and FCR must
 * agree wherever the shipped trámite rules find the trámite the simulator wrote about.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildChatMessages, type ChatMessage } from '@wolkvox-chat-stream/events'
import {
  classifyConversation,
  classifyMessage,
  compileRules,
  loadRules,
} from '@wolkvox-chat-stream/keyword-rules'
import {
  catalog,
  computeTruth,
  expectedFcr,
  type ChatExpectation,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { fcrOutcomes, identityOf } from './fcr.js'
import { protocolChecks } from './protocol.js'
import { conversationTimings } from './timings.js'

const ZONE = 'America/Bogota'
const protocolRuleSet = loadRules(
  fileURLToPath(new URL('../rules/protocol.es.json', import.meta.url)),
)
const protocolRules = compileRules(protocolRuleSet)
const tramiteRules = compileRules(
  loadRules(
    fileURLToPath(new URL('../../tramite-classifier/rules/tramites.es.json', import.meta.url)),
  ),
)
const ruleIdOf = catalog.shippedRuleIds

// Twelve days of a busy operation: about 7,000 chats, returns at every lag included.
const historyStartMs = Date.parse('2025-03-01T00:00:00Z')
const nowMs = Date.parse('2025-03-13T00:00:00Z')
const truth = computeTruth(
  {
    seed: 21,
    chatsPerHour: 25,
    timeZone: ZONE,
    historyStartMs,
    selection: 'closing',
    visibilityLagMs: 0,
    nowMs,
  },
  { from: new Date(historyStartMs), to: new Date(nowMs) },
)
const context = {
  server: '0010',
  zone: ZONE,
  window: { start: new Date(historyStartMs), end: new Date(nowMs) },
  polledAt: new Date(nowMs),
}
const chats = truth.data.map((item, i) => ({
  events: buildChatMessages(item, context).events,
  expectation: truth.expectations[i] as ChatExpectation,
}))
const textsOf = (events: readonly ChatMessage[]) =>
  events.map((e) => ({ text: e.message, sender: e.sender, position: e.position }))

describe('the simulator and chat-quality agree', () => {
  it('covers a few thousand whole chats, each with its expectation', () => {
    expect(truth.chatCount).toBeGreaterThan(5_000)
    expect(truth.expectations).toHaveLength(truth.chatCount)
    for (const { events, expectation } of chats.slice(0, 50)) {
      expect(events[0]?.conn_id).toBe(expectation.conn_id)
    }
    expect(
      chats.every(({ events, expectation }) => events.length === expectationCount(expectation)),
    ).toBe(true)
  })

  it('gives the expected timings of every chat', () => {
    const mismatches = chats.flatMap(({ events, expectation: e }) => {
      const got = conversationTimings(
        events.map((m) => ({
          position: m.position,
          sentAtMs: m.sent_at.getTime(),
          sender: m.sender,
        })),
      )
      const expected = {
        firstResponseMs: e.first_response_ms,
        handoffMs: e.handoff_ms,
        responseGapsMs: e.response_gaps_ms,
        longestWaitMs: e.longest_wait_ms,
        lastTurnUnanswered: e.last_turn_unanswered,
        durationMs: e.duration_ms,
        messages: e.messages,
      }
      return JSON.stringify(got) === JSON.stringify(expected) ? [] : [{ got, expected }]
    })
    expect(mismatches.slice(0, 3)).toEqual([])
    // The data exercises the definitions: handoffs, slow first responses, skipped answers.
    const es = chats.map((c) => c.expectation)
    expect(es.filter((e) => e.handoff_ms !== null).length).toBeGreaterThan(es.length * 0.4)
    expect(es.filter((e) => (e.first_response_ms ?? 0) > 60_000).length).toBeGreaterThan(
      es.length * 0.2,
    )
    expect(es.some((e) => e.first_response_ms === null)).toBe(true)
  })

  it('gives the expected protocol checks of every chat, with the shipped rules', () => {
    const mismatches = chats.flatMap(({ events, expectation: e }) => {
      const got = Object.fromEntries(
        protocolChecks(protocolRuleSet, protocolRules, textsOf(events)).map((c) => [
          c.id,
          c.passed,
        ]),
      )
      return JSON.stringify(got) === JSON.stringify(e.checks)
        ? []
        : [{ conn_id: e.conn_id, got, expected: e.checks }]
    })
    expect(mismatches.slice(0, 3)).toEqual([])
    for (const id of Object.keys(
      chats[0]!.expectation.checks,
    ) as (keyof ChatExpectation['checks'])[]) {
      expect(
        chats.some((c) => !c.expectation.checks[id]),
        id,
      ).toBe(true)
    }
  })

  it('writes each catalog line for the protocol checks it is meant for, and no other', () => {
    const hits = (text: string) =>
      classifyMessage(protocolRules, text, 'agent')
        .labels.map((l) => l.id)
        .sort()
    const answers = Object.values(catalog.scripts).flatMap((s) => s.answers)
    for (const text of answers) expect(hits(text), text).toEqual([])
    for (const text of catalog.agentGreetings) expect(hits(text), text).toEqual(['saludo'])
    for (const text of catalog.agentIdentityAsks)
      expect(hits(text), text).toEqual(['identificacion'])
    for (const text of catalog.agentOffers) expect(hits(text), text).toEqual(['ofrece-ayuda'])
    for (const text of catalog.agentFarewells) expect(hits(text), text).toEqual(['despedida'])
    for (const text of catalog.agentForbidden)
      expect(hits(text), text).toEqual(['no-expresiones-prohibidas'])
  })

  it('finds the intended trámite with the shipped trámite rules for nearly every chat', () => {
    const found = chats.map(({ events, expectation }) => ({
      expected: ruleIdOf[expectation.tramite],
      primary: classifyConversation(tramiteRules, textsOf(events)).primary,
    }))
    const right = found.filter((f) => f.primary === f.expected).length
    const share = right / found.length
    console.info(
      `trámite rules: ${right} of ${found.length} chats (${(100 * share).toFixed(2)} %) classified as intended; ` +
        `${found.filter((f) => f.primary === null).length} unclassified, ` +
        `${found.filter((f) => f.primary !== null && f.primary !== f.expected).length} otherwise`,
    )
    expect(share).toBeGreaterThan(0.965)
    // Never another trámite: only chats that name none stay unclassified.
    expect(found.filter((f) => f.primary !== null && f.primary !== f.expected)).toEqual([])
  })

  it('gives the expected FCR outcomes where the classifier agrees on the trámite', () => {
    const windowMs = 7 * 86_400_000
    const expectations = chats.map((c) => c.expectation)
    const byIntent = expectedFcr(expectations, { windowMs, nowMs })
    const got = fcrOutcomes(
      chats.map(({ events, expectation }) => ({
        connId: expectation.conn_id,
        identity: identityOf(events[0]?.customer_id ?? null, events[0]?.customer_phone ?? null),
        // The intended trámite: the product's grouping is what is checked here, not the rules.
        tramite: expectation.tramite,
        startedAtMs: Math.min(...events.map((e) => e.sent_at.getTime())),
        endedAtMs: Math.max(...events.map((e) => e.sent_at.getTime())),
      })),
      windowMs,
      nowMs,
    )
    expect(new Map([...got].map(([k, v]) => [k, { ...v }]))).toEqual(byIntent)
    const outcomes = [...byIntent.values()].map((o) => o.outcome)
    for (const outcome of ['resolved', 'repeated', 'pending'] as const) {
      expect(outcomes.filter((o) => o === outcome).length, outcome).toBeGreaterThan(20)
    }

    // With the trámite the shipped rules find, as the service will group: nearly the same.
    const classified = fcrOutcomes(
      chats.map(({ events, expectation }) => ({
        connId: expectation.conn_id,
        identity: identityOf(events[0]?.customer_id ?? null, events[0]?.customer_phone ?? null),
        tramite: classifyConversation(tramiteRules, textsOf(events)).primary,
        startedAtMs: expectation.started_at_ms,
        endedAtMs: expectation.ended_at_ms,
      })),
      windowMs,
      nowMs,
    )
    const same = [...byIntent].filter(
      ([connId, o]) => classified.get(connId)?.outcome === o.outcome,
    ).length
    console.info(
      `FCR with classified trámites: ${same} of ${byIntent.size} outcomes as intended ` +
        `(${(100 * (same / byIntent.size)).toFixed(2)} %)`,
    )
    expect(same / byIntent.size).toBeGreaterThan(0.98)
  })
})

/** The number of messages a chat's expectation counts. */
const expectationCount = (e: ChatExpectation): number =>
  e.messages.customer + e.messages.agent + e.messages.bot + e.messages.other
