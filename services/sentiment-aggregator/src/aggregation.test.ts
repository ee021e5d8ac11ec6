import { describe, expect, it } from 'vitest'
import { thrownAppError } from '@wolkvox-chat-stream/errors'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import { createTestContext, type Delivered } from '@wolkvox-chat-stream/service-kit'
import { scoreText } from '@wolkvox-chat-stream/text-sentiment'
import {
  agentKeyOf,
  correctionEvents,
  countsFromText,
  dirtyMember,
  earlierName,
  figuresOf,
  nameValue,
  parseDirtyMember,
  parseNameValue,
  parseRevisionSummary,
  planBatch,
  revisionSummary,
  scoreOf,
  textSentimentOf,
} from './aggregation.js'
import { recordBatch } from './service.js'

const ZONE = 'America/Bogota'

const event = (overrides: Partial<ChatMessage> = {}): ChatMessage =>
  ({
    event_id: 'e1',
    server: '0010',
    report: 'chat_2',
    conn_id: 'CH-1',
    agent_name: 'Ana  María',
    sent_at: new Date('2025-02-11T15:22:33Z'),
    position: 0,
    conversation_length: 3,
    sender: 'customer',
    sentiment: 'negative',
    message: '',
    ...overrides,
  }) as ChatMessage

describe('agentKeyOf', () => {
  it.each([
    ['Ana  María', 'ana maría'],
    ['  ANA\tMARÍA \n', 'ana maría'],
    ['Ana Mari\u0301a', 'ana maría'],
    ['', ''],
  ])('%j -> %j', (name, key) => expect(agentKeyOf(name)).toBe(key))
})

describe('scoreOf', () => {
  it('scores known sentiments from -2 to +2 and leaves unknown out', () => {
    expect(
      ['very_negative', 'negative', 'neutral', 'positive', 'very_positive'].map(scoreOf),
    ).toEqual([-2, -1, 0, 1, 2])
    expect(scoreOf('unknown')).toBeUndefined()
  })
})

describe('planBatch', () => {
  it('counts each message in its hour, its local day and the totals', () => {
    const plan = planBatch([event(), event({ event_id: 'e2', sentiment: 'unknown' })], ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    const hour = Date.parse('2025-02-11T15:00:00Z')
    const day = Date.parse('2025-02-11T05:00:00Z')
    expect(inc.get(`h|${hour}|s.negative`)).toBe(1)
    expect(inc.get(`h|${hour}|s.unknown`)).toBe(1)
    expect(inc.get(`d|${day}|f.customer`)).toBe(2)
    expect(inc.get(`t|0|score`)).toBe(-1)
    expect(inc.get(`t|0|known`)).toBe(1)
    expect([...plan.dirty].sort()).toEqual([
      dirtyMember('0010', 'ana maría', 'day', day),
      dirtyMember('0010', 'ana maría', 'hour', hour),
    ])
  })

  it('puts a message before local midnight in the previous local day', () => {
    // 2025-02-12 04:59:59Z is 23:59:59 on the 11th in Bogotá (UTC-5).
    const plan = planBatch([event({ sent_at: new Date('2025-02-12T04:59:59Z') })], ZONE)
    const conv = [...plan.conversations.values()][0]!
    expect(conv.lastDayMs).toBe(Date.parse('2025-02-11T05:00:00Z'))
    expect(conv.lastHourMs).toBe(Date.parse('2025-02-12T04:00:00Z'))
  })

  it('keeps per conversation its latest message, latest customer message and completeness', () => {
    const plan = planBatch(
      [
        event({ position: 2, sent_at: new Date('2025-02-11T16:10:00Z'), sender: 'agent' }),
        event({ position: 1, sent_at: new Date('2025-02-11T16:05:00Z'), sentiment: 'positive' }),
        event({ position: 0, sent_at: new Date('2025-02-11T15:00:00Z'), sentiment: 'negative' }),
      ],
      ZONE,
    )
    const conv = [...plan.conversations.values()][0]!
    expect(conv.lastMs).toBe(Date.parse('2025-02-11T16:10:00Z'))
    expect(conv.lastCustomer).toEqual({
      ms: Date.parse('2025-02-11T16:05:00Z'),
      position: 1,
      negative: false,
      corrected: false,
    })
    expect(conv.complete).toBe(true)
  })

  it('breaks a same-second tie between customer messages by position', () => {
    const at = new Date('2025-02-11T16:05:00Z')
    const plan = planBatch(
      [
        event({ position: 4, sent_at: at, sentiment: 'very_negative', conversation_length: 9 }),
        event({ position: 3, sent_at: at, sentiment: 'positive', conversation_length: 9 }),
      ],
      ZONE,
    )
    const conv = [...plan.conversations.values()][0]!
    expect(conv.lastCustomer?.negative).toBe(true)
    expect(conv.complete).toBe(false)
  })

  it('keeps the earliest display name of an agent', () => {
    const plan = planBatch(
      [
        event({ agent_name: 'ANA MARÍA', sent_at: new Date('2025-02-11T16:00:00Z') }),
        event({ agent_name: 'Ana  María', sent_at: new Date('2025-02-11T15:00:00Z') }),
      ],
      ZONE,
    )
    expect(plan.names.get('0010|ana maría')?.name).toBe('Ana  María')
  })

  it('moves a corrected message from its old sentiment to the new one, under its first agent', () => {
    const first = event({ sentiment: 'unknown', agent_name: 'Ana  María', position: 2 })
    const summary = revisionSummary(first)
    // The newer revision: a feeling recognised late, and an agent name Wolkvox changed.
    const later = event({ sentiment: 'negative', agent_name: 'Luis', position: 2 })
    const plan = planBatch(correctionEvents(later, summary), ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    expect(plan.increments.has('0010|luis')).toBe(false)
    expect(inc.get('t|0|s.unknown')).toBe(-1)
    expect(inc.get('t|0|s.negative')).toBe(1)
    expect(inc.get('t|0|score')).toBe(-1)
    expect(inc.get('t|0|known')).toBe(1)
    // The sender is counted once: taken back and counted again.
    expect(inc.has('t|0|f.customer')).toBe(false)
    // Its conversation sees the new feeling of that same message, marked as a correction.
    const conv = [...plan.conversations.values()][0]!
    expect(conv.lastCustomer).toEqual({
      ms: later.sent_at.getTime(),
      position: 2,
      negative: true,
      corrected: true,
    })
    expect(conv.complete).toBe(true)
  })
})

describe('text sentiment (customer messages without a Wolkvox feeling)', () => {
  const COMPLAINT = 'pésimo servicio'
  // What the scorer says of it (packages/text-sentiment): the aggregator counts exactly that.
  const scored = scoreText(COMPLAINT).sentiment
  const hour = Date.parse('2025-02-11T15:00:00Z')
  const day = Date.parse('2025-02-11T05:00:00Z')
  const noFeeling = (overrides: Partial<ChatMessage> = {}): ChatMessage =>
    event({ sentiment: 'unknown', feeling: '', message: COMPLAINT, ...overrides })
  /** The text and upstream fields a plan writes for one agent, totals only. */
  const totals = (fields: Map<string, number>) =>
    Object.fromEntries([...fields].filter(([field]) => field.startsWith('t|0|')))

  it('scores the complaint negative, as the scorer does', () => {
    expect(['negative', 'very_negative']).toContain(scored)
  })

  it('counts a customer message with an empty feeling from its text, its upstream counts as before', () => {
    const plan = planBatch([noFeeling()], ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    for (const tag of [`h|${hour}`, `d|${day}`, 't|0']) {
      expect(inc.get(`${tag}|x.${scored}`)).toBe(1)
      expect(inc.get(`${tag}|xscore`)).toBe(scoreOf(scored))
      expect(inc.get(`${tag}|xknown`)).toBe(1)
      // Upstream: still one unknown message, no known score.
      expect(inc.get(`${tag}|s.unknown`)).toBe(1)
      expect(inc.has(`${tag}|known`)).toBe(false)
      expect(inc.has(`${tag}|score`)).toBe(false)
    }
    expect(totals(inc)).toEqual({
      't|0|s.unknown': 1,
      't|0|f.customer': 1,
      [`t|0|x.${scored}`]: 1,
      't|0|xscore': scoreOf(scored),
      't|0|xknown': 1,
    })
  })

  it('scores only customer messages without a feeling and with some text', () => {
    const plan = planBatch(
      [
        // An agent's message without a feeling: not scored.
        noFeeling({ event_id: 'a', sender: 'agent' }),
        // A bot's: not scored.
        noFeeling({ event_id: 'b', sender: 'bot' }),
        // The customer's, blank after trimming: not scored.
        noFeeling({ event_id: 'c', message: ' \n\t ' }),
        // The customer's with a Wolkvox feeling: counted upstream only.
        noFeeling({ event_id: 'd', sentiment: 'positive', feeling: 'Positive' }),
      ],
      ZONE,
    )
    const inc = plan.increments.get('0010|ana maría')!.fields
    expect([...inc.keys()].filter((field) => /\|x/u.test(field))).toEqual([])
    expect(inc.get('t|0|s.unknown')).toBe(3)
    expect(inc.get('t|0|s.positive')).toBe(1)
    expect(countsFromText(noFeeling({ sender: 'agent' }))).toBe(false)
    expect(countsFromText(noFeeling({ message: '\u00a0 ' }))).toBe(false)
    expect(countsFromText(noFeeling({ message: ' ok ' }))).toBe(true)
  })

  it('keeps the text sentiment in the revision summary, and reads summaries without it', () => {
    const summary = revisionSummary(noFeeling())
    expect(JSON.parse(summary)).toEqual(['unknown', 'Ana  María', scored])
    expect(parseRevisionSummary(summary)).toEqual({
      sentiment: 'unknown',
      agentName: 'Ana  María',
      textSentiment: scored,
    })
    // Not counted from text: the two elements of the previous version, read back the same way.
    const upstream = revisionSummary(event({ sentiment: 'negative' }))
    expect(JSON.parse(upstream)).toEqual(['negative', 'Ana  María'])
    expect(parseRevisionSummary(upstream).textSentiment).toBeNull()
    expect(parseRevisionSummary('["unknown","Luis"]')).toEqual({
      sentiment: 'unknown',
      agentName: 'Luis',
      textSentiment: null,
    })
    for (const bad of ['', '{}', '["unknown"]', '["unknown","Luis","furious"]', 'null'])
      expect(thrownAppError(() => parseRevisionSummary(bad)).code, bad).toBe(
        'CONSUMER_EVENT_REJECTED',
      )
  })

  it('moves a message from the text counts to the upstream ones when its feeling arrives late', () => {
    const first = noFeeling({ position: 2 })
    const later = noFeeling({ position: 2, sentiment: 'negative', feeling: 'Negative' })
    const plan = planBatch(correctionEvents(later, revisionSummary(first)), ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    for (const tag of [`h|${hour}`, `d|${day}`, 't|0']) {
      // Text: taken back.
      expect(inc.get(`${tag}|x.${scored}`)).toBe(-1)
      expect(inc.get(`${tag}|xscore`)).toBe(-scoreOf(scored)!)
      expect(inc.get(`${tag}|xknown`)).toBe(-1)
      // Upstream: from unknown to negative.
      expect(inc.get(`${tag}|s.unknown`)).toBe(-1)
      expect(inc.get(`${tag}|s.negative`)).toBe(1)
      expect(inc.get(`${tag}|score`)).toBe(-1)
      expect(inc.get(`${tag}|known`)).toBe(1)
    }
    expect(Object.keys(totals(inc)).sort()).toEqual(
      [
        't|0|known',
        't|0|s.negative',
        't|0|s.unknown',
        't|0|score',
        `t|0|x.${scored}`,
        't|0|xknown',
        't|0|xscore',
      ].sort(),
    )
  })

  it('takes back no text count for a summary of the previous version (two elements)', () => {
    // Applied before the aggregator scored text: it was never in the text counts.
    const later = noFeeling({ sentiment: 'negative', feeling: 'Negative' })
    const plan = planBatch(correctionEvents(later, '["unknown","Ana  María"]'), ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    expect([...inc.keys()].filter((field) => /\|x/u.test(field))).toEqual([])
    expect(inc.get('t|0|s.unknown')).toBe(-1)
    expect(inc.get('t|0|s.negative')).toBe(1)
    // The same message still without a feeling (another field revised): counted from text now.
    const still = noFeeling({ customer_id: '42' })
    const again = planBatch(correctionEvents(still, '["unknown","Ana  María"]'), ZONE)
    expect(totals(again.increments.get('0010|ana maría')!.fields)).toEqual({
      [`t|0|x.${scored}`]: 1,
      't|0|xscore': scoreOf(scored),
      't|0|xknown': 1,
    })
  })

  it('leaves the text counts as they were for a revision that is still without a feeling', () => {
    const first = noFeeling()
    const plan = planBatch(correctionEvents(noFeeling(), revisionSummary(first)), ZONE)
    expect(plan.increments.get('0010|ana maría')!.fields.size).toBe(0)
  })

  it('writes a score that moves while the known count does not (a feeling corrected)', () => {
    const first = event({ sentiment: 'very_negative' })
    const later = event({ sentiment: 'neutral' })
    const plan = planBatch(correctionEvents(later, revisionSummary(first)), ZONE)
    const inc = plan.increments.get('0010|ana maría')!.fields
    expect(inc.get('t|0|score')).toBe(2)
    expect(inc.has('t|0|known')).toBe(false)
  })

  it('scores a message once for the summary and the batch', () => {
    const e = noFeeling()
    expect(textSentimentOf(e)).toBe(scored)
    expect(textSentimentOf({ ...e, textSentiment: null })).toBeUndefined()
    expect(textSentimentOf({ ...e, textSentiment: 'positive' })).toBe('positive')
  })
})

describe('encodings', () => {
  it('reads back dirty members whose agent key holds a bar', () => {
    expect(parseDirtyMember(dirtyMember('0010', 'a|b', 'day', 5))).toEqual({
      server: '0010',
      agentKey: 'a|b',
      granularity: 'day',
      startMs: 5,
    })
    expect(parseDirtyMember('nonsense')).toBeUndefined()
  })

  it('orders stored names by time, then by name', () => {
    const a = { sentAtMs: 9, name: 'b' }
    const b = { sentAtMs: 10, name: 'a' }
    expect(earlierName(a, b)).toBe(true)
    expect(nameValue(9, 'b') < nameValue(10, 'a')).toBe(true)
    expect(parseNameValue(nameValue(9, 'x|y'))).toEqual({ sentAtMs: 9, name: 'x|y' })
  })
})

describe('figuresOf', () => {
  it('computes the mean over known sentiments only, null when none', () => {
    const values: Record<string, number> = {
      's.negative': 1,
      's.positive': 2,
      's.unknown': 5,
      score: 1,
      known: 3,
      conv: 2,
      neg: 1,
    }
    const f = figuresOf((m) => values[m] ?? 0)
    expect(f.messages).toBe(8)
    expect(f.mean_score).toBeCloseTo(1 / 3)
    expect(figuresOf(() => 0).mean_score).toBeNull()
  })

  it('gives the text figures apart: per sentiment (unknown 0) and their own mean', () => {
    const values: Record<string, number> = {
      's.unknown': 5,
      'x.very_negative': 1,
      'x.negative': 2,
      'x.positive': 1,
      xscore: -3,
      xknown: 4,
    }
    const f = figuresOf((m) => values[m] ?? 0)
    expect(f.messages_by_text_sentiment).toEqual({
      very_negative: 1,
      negative: 2,
      neutral: 0,
      positive: 1,
      very_positive: 0,
      unknown: 0,
    })
    expect(f.text_mean_score).toBe(-0.75)
    // The upstream figures do not see them.
    expect(f.messages).toBe(5)
    expect(f.mean_score).toBeNull()
    expect(figuresOf(() => 0).text_mean_score).toBeNull()
  })
})

describe('recordBatch', () => {
  it('returns the fresh revisions it counted from text, with their offsets', () => {
    const { ctx } = createTestContext({}, ['batch'])
    const delivered = (offset: string, overrides: Partial<ChatMessage>): Delivered<ChatMessage> =>
      ({ offset, event: event(overrides) }) as Delivered<ChatMessage>
    const scored = recordBatch(
      [
        delivered('7', { event_id: 'a', sentiment: 'unknown', message: 'pésimo servicio' }),
        delivered('8', { event_id: 'b', sentiment: 'unknown', message: 'pésimo', sender: 'agent' }),
        delivered('9', { event_id: 'c', sentiment: 'negative', message: 'pésimo servicio' }),
      ],
      ctx,
      ZONE,
    )
    expect(scored).toEqual([{ offset: '7', sentiment: scoreText('pésimo servicio').sentiment }])
  })

  it('records the counts as increments and the chunk in one batch call, each key once', () => {
    const { ctx, ops } = createTestContext({}, ['batch'])
    const delivered = (overrides: Partial<ChatMessage>): Delivered<ChatMessage> =>
      ({ event: event(overrides) }) as Delivered<ChatMessage>
    recordBatch(
      [
        delivered({ event_id: 'a', position: 0 }),
        delivered({ event_id: 'b', position: 2, sender: 'agent', sentiment: 'positive' }),
        delivered({ event_id: 'c', conn_id: 'CH-2', agent_name: 'Luis' }),
      ],
      ctx,
      ZONE,
    )
    const calls = ops.filter((op) => op.command === 'LUA')
    expect(calls).toHaveLength(1)
    const [call] = calls
    const hour = Date.parse('2025-02-11T15:00:00Z')
    const day = Date.parse('2025-02-11T05:00:00Z')
    // KEYS: the dirty hash, then each names, window and conversation hash once.
    expect(call!.keys).toEqual([
      'dirty',
      ['names', '0010'],
      ['conv', '0010', 'CH-1', 'ana maría'],
      ['agent', '0010', 'ana maría'],
      ['conv', '0010', 'CH-2', 'luis'],
      ['agent', '0010', 'luis'],
    ])
    const sentAt = String(Date.parse('2025-02-11T15:22:33Z'))
    expect(call!.args).toEqual([
      'batch',
      '2',
      ...['2', 'ana maría', nameValue(Number(sentAt), 'Ana  María')],
      ...['2', 'luis', nameValue(Number(sentAt), 'Luis')],
      '2',
      ...[
        '3',
        '4',
        '0010|ana maría|',
        sentAt,
        String(hour),
        String(day),
        sentAt,
        '0',
        '1',
        '1',
        '0',
      ],
      ...['5', '6', '0010|luis|', sentAt, String(hour), String(day), sentAt, '0', '1', '0', '0'],
    ])
    const increments = ops.filter((op) => op.command === 'HINCRBY')
    // No message here is without a feeling: nothing counted from text.
    expect(increments.some((op) => /\|x/u.test(String(op.args[0])))).toBe(false)
    expect(increments).toContainEqual({
      command: 'HINCRBY',
      keys: [['agent', '0010', 'ana maría']],
      args: [`h|${hour}|s.negative`, '1'],
    })
    expect(increments).toContainEqual({
      command: 'HINCRBY',
      keys: ['dirty'],
      args: [dirtyMember('0010', 'luis', 'day', day), '1'],
    })
  })
})
