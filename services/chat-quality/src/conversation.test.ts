import { describe, expect, it } from 'vitest'
import { compileRules, loadRules } from '@wolkvox-chat-stream/keyword-rules'
import { shippedRulesFile } from './config.js'
import {
  contributionOf,
  fcrEntryOf,
  fingerprint,
  keepFirst,
  keepMessage,
  parseField,
  parseState,
  qualityOf,
  type QualityEvent,
} from './conversation.js'
import { identityKeyOf, parseFcrEntry } from './fcr.js'
import { bucketOf } from './histogram.js'

const ruleSet = loadRules(shippedRulesFile)
const rules = compileRules(ruleSet)
const standards = { firstResponseTargetMs: 60_000, responseGapTargetMs: 120_000 }
const T0 = Date.parse('2026-12-04T15:00:10Z')

const event = (
  position: number,
  seconds: number,
  sender: QualityEvent['sender'],
  message: string,
): QualityEvent => ({
  event_id: `e${position}`,
  server: '0010',
  conn_id: 'c1',
  agent_name: ' Ana  Pérez ',
  channel_normalized: 'whatsapp',
  sent_at: new Date(T0 + seconds * 1000),
  position,
  conversation_length: 5,
  sender,
  message,
  revision: 'r',
  polled_at: new Date(T0),
  customer_id: position === 0 ? '' : 'C-77',
  customer_phone: null,
})

const chat = [
  event(0, 0, 'customer', 'Hola, necesito un certificado'),
  event(1, 40, 'agent', 'Buenas tardes, mi nombre es Ana. ¿Me confirma su número de documento?'),
  event(2, 100, 'customer', '1020304050'),
  event(3, 400, 'agent', 'Listo, enviado. Gracias por comunicarse, feliz día'),
  event(4, 420, 'customer', 'Gracias'),
]

/** The hash the conversation script would leave for these messages, in any order. */
const hashOf = (events: readonly QualityEvent[]): Record<string, string> => {
  const hash: Record<string, string> = {
    first: String(T0),
    fpos: '0',
    ch: keepFirst(chat[0]!),
    done: '1',
    v: ruleSet.version,
    n: '1',
    pub: '5',
  }
  for (const e of events) hash[`m:${e.event_id}`] = keepMessage(rules, e)
  return hash
}

describe('a conversation’s figures from its kept messages', () => {
  it('gives the timings, standards and checks the definitions give, in any arrival order', () => {
    const state = parseState('0010|c1', hashOf([...chat].reverse()))!
    const c = qualityOf(state, ruleSet.tramites, standards)
    expect(c).toMatchObject({
      server: '0010',
      conn_id: 'c1',
      agent_key: 'ana pérez',
      agent_name: ' Ana  Pérez ',
      channel: 'whatsapp',
      first_response_ms: 40_000,
      handoff_ms: null,
      response_gaps_ms: [40_000, 300_000],
      longest_wait_ms: 300_000,
      last_turn_unanswered: true,
      duration_ms: 420_000,
      messages: { customer: 3, agent: 2, bot: 0, other: 0 },
      meets_first_response: true,
      meets_response_gaps: false,
      rule_set_version: ruleSet.version,
    })
    expect(c.ended_at.getTime() - c.started_at.getTime()).toBe(420_000)
    const passed = Object.fromEntries(c.checks.map((k) => [k.check, k.passed]))
    expect(passed).toEqual({
      saludo: true,
      identificacion: true,
      'ofrece-ayuda': false,
      despedida: true,
      'no-expresiones-prohibidas': true,
    })
    // Each explanation names the message and the text as written.
    const greeting = c.checks.find((k) => k.check === 'saludo')!.explanations
    expect(greeting[0]).toMatchObject({ event_id: 'e1', matched_text: 'Buenas tardes' })
    // The customer's "Hola" is not the agent greeting: only agent messages are checked.
    expect(greeting.every((e) => e.event_id !== 'e0')).toBe(true)
    expect(
      fingerprint(qualityOf(parseState('0010|c1', hashOf(chat))!, ruleSet.tramites, standards)),
    ).toBe(fingerprint(c))
  })

  it('is counted under its agent, hour, local day and totals', () => {
    const c = qualityOf(parseState('0010|c1', hashOf(chat))!, ruleSet.tramites, standards)
    const { agentKey, fields } = contributionOf(c, 'America/Bogota')
    expect(agentKey).toBe('ana pérez')
    const parsed = fields.map((f) => parseField(f)!)
    const hour = Date.parse('2026-12-04T15:00:00Z')
    const day = Date.parse('2026-12-04T05:00:00Z')
    expect(new Set(parsed.map((p) => `${p.tag}${p.startMs}`))).toEqual(
      new Set([`h${hour}`, `d${day}`, 't0']),
    )
    const metrics = parsed.filter((p) => p.tag === 't').map((p) => p.metric)
    expect(metrics).toEqual(
      expect.arrayContaining([
        'n',
        'fr',
        'fr.ok',
        'rg',
        `frb.${bucketOf(40_000)}`,
        'c.saludo',
        'c.saludo.ok',
      ]),
    )
    expect(metrics).not.toContain('rg.ok')
    expect(metrics).toContain('c.ofrece-ayuda')
    expect(metrics).not.toContain('c.ofrece-ayuda.ok')
  })

  it('keeps the customer identity as a key, the first message that has one giving it', () => {
    const hash = hashOf([...chat].reverse())
    expect(Object.values(hash).join(' ')).not.toContain('C-77')
    const state = parseState('0010|c1', hash)!
    const entry = parseFcrEntry(fcrEntryOf(state, qualityOf(state, ruleSet.tramites, standards)))
    // Message 0 has a blank customer_id: message 1's identity is the conversation's.
    expect(entry).toEqual({
      identity: identityKeyOf('C-77', null),
      startedAtMs: T0,
      endedAtMs: T0 + 420_000,
      agentKey: 'ana pérez',
      channel: 'whatsapp',
    })
  })

  it('reads no conversation from a hash without one', () => {
    expect(parseState('0010|c1', {})).toBeUndefined()
  })
})
