import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import { createTestContext, type StateOp } from '@wolkvox-chat-stream/service-kit'
import { localDate } from '@wolkvox-chat-stream/zoned-time'
import {
  classify,
  countField,
  fingerprint,
  matchMessage,
  parseConversation,
  parseCountField,
} from './conversation.js'
import { classifyConversation, compileRules, parseRules } from '@wolkvox-chat-stream/keyword-rules'
import { recordBatch } from './service.js'
import type { LoadedRules } from '@wolkvox-chat-stream/keyword-rules'

const ruleSet = parseRules(
  {
    version: 'v1',
    tramites: [
      { id: 'certificado', label: 'Certificados', keywords: ['certificad*'], priority: 40 },
      { id: 'pago', label: 'Pagos', keywords: ['pago', 'factura*'], priority: 30 },
      {
        id: 'datos',
        label: 'Datos',
        allOf: [
          ['cambi*', 'actualiz*'],
          ['correo', 'celular'],
        ],
      },
    ],
  },
  'test.json',
)
const rules = compileRules(ruleSet)
const loaded: LoadedRules = {
  version: 'v1',
  compiled: rules,
  ruleSet,
  file: 'test.json',
  loadedAt: new Date(0),
}

let n = 0
function message(fields: Partial<ChatMessage>): ChatMessage {
  n++
  return {
    event_id: `e${String(n).padStart(3, '0')}`,
    revision: '',
    server: '0010',
    report: 'chat_2',
    conn_id: 'c1',
    agent_name: 'Ana',
    customer_name: 'Cliente',
    channel: 'WhatsApp',
    from: 'CUSTOMER',
    from_name: 'Cliente',
    to_name: 'Ana',
    date: '2025-02-11 10:00:00',
    message: '',
    customer_id: '1',
    feeling: null,
    customer_phone: null,
    sent_at: new Date('2025-02-11T15:00:00Z'),
    position: 0,
    conversation_length: 4,
    channel_normalized: 'whatsapp',
    sender: 'customer',
    sentiment: 'unknown',
    extra: {},
    polled_at: new Date('2025-02-11T16:00:00Z'),
    window_start: new Date('2025-02-11T15:00:00Z'),
    window_end: new Date('2025-02-11T15:59:59Z'),
    ...fields,
  }
}

const at = (minute: number): Date => new Date(Date.UTC(2025, 1, 11, 15, minute))

/** The conversation hash the apply script would build from `ops` (the Lua merge, in JS). */
function hashOf(ops: readonly StateOp[]): Record<string, string> {
  const hash: Record<string, string> = { n: '1' }
  for (const op of ops) {
    const [, first, position, channel, pub, done, version, , ...pairs] = op.args.slice(1)
    if (hash.first === undefined || Number(first) < Number(hash.first)) {
      Object.assign(hash, { first, fpos: position, ch: channel })
    }
    Object.assign(hash, { pub, v: version })
    if (done === '1') hash.done = '1'
    for (let i = 0; i < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!
  }
  return hash
}

describe('recordBatch', () => {
  it('records one conversation function call per chat, with the matches of matched messages only', () => {
    const events = [
      message({ position: 0, sent_at: at(1), message: 'hola', channel_normalized: 'telegram' }),
      message({ position: 1, sent_at: at(2), message: 'un certificado', sender: 'agent' }),
      message({ position: 2, sent_at: at(3), message: 'el certificado y el pago' }),
      message({ conn_id: 'c2', position: 3, conversation_length: 4, message: 'factura' }),
    ]
    const { ctx, ops } = createTestContext({}, ['conversation'])
    recordBatch(
      events.map((event, i) => ({ ...ctx, event, timestamp: String(1_000 + i) })),
      ctx,
      loaded,
    )
    expect(ops).toHaveLength(2)
    const [c1, c2] = ops
    expect(c1).toMatchObject({
      command: 'LUA',
      keys: [['conv', '0010', 'c1'], 'dirty', 'pending'],
    })
    expect(c1!.args.slice(0, 9)).toEqual([
      'conversation',
      '0010|c1',
      String(at(1).getTime()),
      '0',
      'telegram',
      '1002',
      '0',
      'v1',
      '0',
    ])
    // The agent's line matches nothing: the shipped senders are customers.
    expect(c1!.args.slice(9).filter((_, i) => i % 2 === 0)).toEqual([`m:${events[2]!.event_id}`])
    expect(JSON.parse(c1!.args[10]!)).toEqual({
      t: at(3).getTime(),
      p: 2,
      x: [
        ['certificado', 'keyword', 'certificad*', 'certificado', 3, 14, 40],
        ['pago', 'keyword', 'pago', 'pago', 20, 24, 30],
      ],
    })
    expect(c2!.args.slice(1, 9)).toEqual([
      '0010|c2',
      String(events[3]!.sent_at.getTime()),
      '3',
      'whatsapp',
      '1003',
      '1',
      'v1',
      '0',
    ])
  })

  it('marks a conversation whose first message is a newer revision, so its channel replaces', () => {
    const first = message({ position: 0, sent_at: at(1), channel_normalized: 'web' })
    const later = message({ position: 1, sent_at: at(2) })
    const { ctx, ops } = createTestContext({}, ['conversation'])
    const previous = { revision: 'r1', order: 1, summary: '' }
    recordBatch([{ ...ctx, event: first, timestamp: '5', previous }], ctx, loaded)
    recordBatch(
      [
        { ...ctx, event: later, timestamp: '6', previous },
        { ...ctx, event: first, timestamp: '6' },
      ],
      ctx,
      loaded,
    )
    expect(ops.map((op) => [op.args[4], op.args[8]])).toEqual([
      ['web', '1'],
      // A correction of a later message does not touch the channel of the first.
      ['web', '0'],
    ])
  })
})

describe('a conversation classified from its stored matches', () => {
  const chat = [
    message({ conn_id: 'c9', position: 0, sent_at: at(5), message: 'quiero cambiar' }),
    message({ conn_id: 'c9', position: 1, sent_at: at(6), message: 'mi correo, y la factura' }),
    message({ conn_id: 'c9', position: 2, sent_at: at(7), message: 'cambiar el celular' }),
    message({ conn_id: 'c9', position: 3, sent_at: at(7), message: 'certificado; la factura' }),
  ]

  it('equals classifyConversation on the texts, whatever batches they came in', () => {
    const want = classifyConversation(
      rules,
      chat.map((m) => ({ text: m.message, sender: m.sender, position: m.position })),
    )
    for (const batches of [[chat], [chat.slice(2), chat.slice(0, 2)], chat.map((m) => [m])]) {
      const ops: StateOp[] = []
      for (const batch of batches) {
        const test = createTestContext({}, ['conversation'])
        recordBatch(
          batch.map((event) => ({ ...test.ctx, event, timestamp: '5' })),
          test.ctx,
          loaded,
        )
        ops.push(...test.ops)
      }
      const state = parseConversation('0010|c9', hashOf(ops))!
      const got = classify(state)
      expect(got.primary_tramite).toBe(want.primary)
      expect(got.labels).toEqual(want.labels.map((l) => ({ tramite: l.id, score: l.score })))
      expect(got.explanations).toEqual(
        want.explanations.map((e) => ({
          tramite: e.rule,
          term: e.term,
          kind: e.kind,
          event_id: chat[e.messageIndex!]!.event_id,
          matched_text: e.matchedText,
          start: e.start,
          end: e.end,
        })),
      )
      expect(got).toMatchObject({
        server: '0010',
        conn_id: 'c9',
        channel: 'whatsapp',
        started_at: at(5).getTime(),
        rule_set_version: 'v1',
        complete: true,
      })
    }
  })

  it('fingerprints the content, not the rules version', () => {
    const state = parseConversation('0010|c9', {
      first: '1',
      ch: 'whatsapp',
      v: 'v1',
      n: '3',
      'm:e1': JSON.stringify(matchMessage(rules, chat[3]!)),
    })!
    const one = classify(state)
    expect(fingerprint({ ...one, rule_set_version: 'v2' })).toBe(fingerprint(one))
    expect(fingerprint({ ...one, complete: !one.complete })).not.toBe(fingerprint(one))
    expect(parseConversation('0010|x', {})).toBeUndefined()
  })

  it('counts a conversation under its first message local day, channel and primary trámite', () => {
    // 04:59 UTC is still the previous day in Bogotá (UTC-5).
    expect(localDate(Date.parse('2025-02-11T04:59:59Z'), 'America/Bogota')).toBe('2025-02-10')
    expect(localDate(Date.parse('2025-02-11T05:00:00Z'), 'America/Bogota')).toBe('2025-02-11')
    const c = classify(
      parseConversation('0010|c|d', {
        first: String(Date.parse('2025-02-11T03:00:00Z')),
        ch: 'x|y',
      })!,
    )
    expect(c.conn_id).toBe('c|d')
    const field = countField(c, 'America/Bogota')
    expect(parseCountField(field)).toEqual({ day: '2025-02-10', channel: 'x|y', tramite: null })
    expect(parseCountField('not json')).toBeUndefined()
    expect(matchMessage(rules, message({ message: 'hola' }))).toBeUndefined()
  })
})
