/*
 * The shipped rules against an oracle independent of them: the simulator's hand labels of every
 * customer line it writes, and the trámites its ground truth says each chat's customer names
 * (`intended_tramites`). Line by line, then chat by chat through the service's own path
 * (matchMessage per event, classify per conversation). Every disagreement must be one of the two
 * known gaps (issue 28), listed here exactly: when the rules or the product fix one, this fails
 * and the list, and KNOWN_RULE_MISSES in test/support/tramite-reference.ts, lose it.
 */
import { describe, expect, it } from 'vitest'
import { buildChatMessages, type ChatMessage } from '@wolkvox-chat-stream/events'
import { classifyMessage, compileRules, loadRules } from '@wolkvox-chat-stream/keyword-rules'
import {
  catalog,
  computeTruth,
  labelledCustomerLines,
  type ChatExpectation,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { shippedRulesFile } from './config.js'
import { classify, matchMessage, type ConversationState } from './conversation.js'

const rules = compileRules(loadRules(shippedRulesFile))
// The labelled lines the shipped rules miss: «nuevo número» names no celular/telefono for the
// allOf of actualizacion-datos, and «inaceptable» is no term of queja-reclamo.
const MISSED_LINES: readonly [string, string][] = [
  ['El nuevo número es 300 555 1234', 'actualizacion-datos'],
  ['Esto es inaceptable', 'queja-reclamo'],
]
const ZONE = 'America/Bogota'
const historyStartMs = Date.parse('2025-03-01T00:00:00Z')
const nowMs = Date.parse('2025-03-09T00:00:00Z')
// Eight days of a busy operation: about 7,500 whole chats.
const truth = computeTruth(
  {
    seed: 83,
    chatsPerHour: 40,
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

/** A whole chat classified as the service does: each event matched, then merged. */
function serviceClassification(events: readonly ChatMessage[]) {
  const state: ConversationState = {
    server: '0010',
    connId: events[0]!.conn_id,
    startedAtMs: events[0]!.sent_at.getTime(),
    channel: events[0]!.channel_normalized,
    complete: true,
    version: rules.version,
    changes: '1',
    lastPublishMs: 0,
    messages: events.flatMap((e) => {
      const matches = matchMessage(rules, e)
      return matches === undefined ? [] : [{ eventId: e.event_id, matches }]
    }),
  }
  return classify(state)
}

describe('the shipped trámite rules against the simulator’s intended trámites', () => {
  it('find in each customer line of the catalog what it names, but two lines', () => {
    const misses: [string, string[], string[]][] = []
    for (const [text, named] of labelledCustomerLines) {
      const found = classifyMessage(rules, text, 'customer').labels.map((l) => l.id)
      const want = named.map((t) => catalog.shippedRuleIds[t])
      if (JSON.stringify(found) !== JSON.stringify(want)) misses.push([text, want, found])
    }
    expect(labelledCustomerLines.size).toBeGreaterThan(70)
    expect(misses).toEqual(MISSED_LINES.map(([text, id]) => [text, [id], []]))
    // The agents' and the bot's lines name trámites too ("el certificado no tiene costo", the
    // menu): the shipped rules read the customer only.
    const others = [
      ...Object.values(catalog.scripts).flatMap((s) => s.answers),
      ...catalog.botGreetings,
    ]
    for (const text of others) {
      expect(classifyMessage(rules, text, 'agent').labels, text).toEqual([])
      expect(classifyMessage(rules, text, 'bot').labels, text).toEqual([])
    }
  })

  it('classify each chat under the trámite its customer names, bar the known gaps', () => {
    expect(truth.chatCount).toBeGreaterThan(7_000)
    let agree = 0
    const unnamed = { total: 0, agree: 0 }
    const gaps = { missedLine: [] as string[], imageNoise: [] as string[], other: [] as string[] }
    let messages = 0
    truth.data.forEach((item, i) => {
      const e = truth.expectations[i] as ChatExpectation
      const events = buildChatMessages(item, context).events
      expect(events.length).toBe(item.conversation.length)
      messages += events.length
      const got = serviceClassification(events)
      const want = e.intended_tramites.map((t) => t.rule_id)
      if (e.unnamed !== null) unnamed.total += 1
      const same =
        got.primary_tramite === (want[0] ?? null) &&
        JSON.stringify(got.labels.map((l) => l.tramite)) === JSON.stringify(want)
      if (same) {
        agree += 1
        if (e.unnamed !== null) unnamed.agree += 1
        return
      }
      // A gap is known when the rules found nothing but known-missed lines name the trámite, or
      // when what differs was found in an image (base64 noise read as words).
      const image = new Set(
        events.filter((m) => m.extra.message_type === 'image').map((m) => m.event_id),
      )
      const fromImage = got.explanations.filter((x) => image.has(x.event_id))
      const carriers = e.intended_tramites.flatMap((t) =>
        t.messages.map((index) => events[index]!.message),
      )
      if (
        got.labels.length === 0 &&
        carriers.every((text) => MISSED_LINES.some(([missed]) => missed === text))
      )
        gaps.missedLine.push(e.conn_id)
      else if (
        fromImage.length > 0 &&
        JSON.stringify(
          got.labels
            .map((l) => l.tramite)
            .filter((t) => !fromImage.some((x) => x.tramite === t) || want.includes(t))
            .sort(),
        ) === JSON.stringify([...want].sort())
      )
        gaps.imageNoise.push(e.conn_id)
      else
        gaps.other.push(
          `${e.conn_id}: want ${JSON.stringify(want)}, got ${JSON.stringify(got.labels)}`,
        )
    })
    expect(messages).toBe(truth.messageCount)
    console.info(
      `shipped rules vs intended trámites: ${agree} of ${truth.chatCount} chats exactly as intended ` +
        `(${unnamed.agree} of ${unnamed.total} that name none left unclassified); ` +
        `${gaps.missedLine.length} decided by a known-missed line, ${gaps.imageNoise.length} by image noise`,
    )
    expect(gaps.other).toEqual([])
    // On this data: both gaps show, and every chat that names no trámite stays unclassified.
    expect(unnamed.total).toBeGreaterThan(100)
    expect(unnamed.agree).toBe(unnamed.total)
    expect(gaps.missedLine.length).toBeGreaterThan(0)
    expect(gaps.imageNoise.length).toBeGreaterThan(0)
    expect(agree + gaps.missedLine.length + gaps.imageNoise.length).toBe(truth.chatCount)
  })
})
