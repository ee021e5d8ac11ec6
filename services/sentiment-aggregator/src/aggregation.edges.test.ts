import { describe, expect, it } from 'vitest'
import {
  dirtyMember,
  earlierName,
  fieldOf,
  figuresOf,
  isNegative,
  metrics,
  nameValue,
  parseDirtyMember,
  parseNameValue,
  parseRevisionSummary,
  planBatch,
  tagOf,
  type PlannedEvent,
} from './aggregation.js'

const ZONE = 'America/Bogota'
// 2025-02-11 15:22:33Z: its UTC hour starts at 15:00Z, its Bogotá day (UTC-5) at 05:00Z.
const SENT = new Date('2025-02-11T15:22:33Z')
const HOUR = Date.parse('2025-02-11T15:00:00Z')
const DAY = Date.parse('2025-02-11T05:00:00Z')

const event = (overrides: Partial<PlannedEvent> = {}): PlannedEvent => ({
  server: '0010',
  conn_id: 'CH-1',
  agent_name: 'Ana',
  sent_at: SENT,
  position: 0,
  conversation_length: 3,
  sender: 'customer',
  sentiment: 'positive',
  message: '',
  ...overrides,
})

describe('the state fields of AgentSentiment', () => {
  it('tags hours h and days d, and names a field <tag>|<start>|<metric>', () => {
    expect(tagOf('hour')).toBe('h')
    expect(tagOf('day')).toBe('d')
    expect(fieldOf('t', 0, 'score')).toBe('t|0|score')
    expect(dirtyMember('0010', 'ana', 'hour', 5)).toBe('0010|ana|hour|5')
  })

  it('lists every metric a window stores, upstream and text apart', () => {
    expect(metrics).toEqual([
      's.very_negative',
      's.negative',
      's.neutral',
      's.positive',
      's.very_positive',
      's.unknown',
      'f.customer',
      'f.agent',
      'f.bot',
      'f.other',
      'score',
      'known',
      'conv',
      'neg',
      'x.very_negative',
      'x.negative',
      'x.neutral',
      'x.positive',
      'x.very_positive',
      'xscore',
      'xknown',
    ])
  })

  it('reads back only well-formed dirty members', () => {
    expect(parseDirtyMember('|k|hour|0')).toEqual({
      server: '',
      agentKey: 'k',
      granularity: 'hour',
      startMs: 0,
    })
    expect(parseDirtyMember('0010|ana|b|day|1739232000000')).toEqual({
      server: '0010',
      agentKey: 'ana|b',
      granularity: 'day',
      startMs: 1_739_232_000_000,
    })
    for (const bad of [
      '0010|ana|week|5',
      '0010|ana|day|x',
      '0010|ana|day|1.5',
      // No start at all, or one Number() would read as 0 or as another number.
      '0010|ana|day|',
      '0010|ana|day| ',
      '0010|ana|day|0x10',
      '0010|ana|day|1e3',
      'day|5',
      '0010|day|5',
      '',
    ])
      expect(parseDirtyMember(bad), bad).toBeUndefined()
  })

  it('stores a name candidate as 15 digits of time, a bar, then the name', () => {
    expect(nameValue(9, 'Ana')).toBe('000000000000009|Ana')
    expect(parseNameValue('001739287353000|Luis')).toEqual({
      sentAtMs: 1_739_287_353_000,
      name: 'Luis',
    })
  })

  it('orders name candidates by time, then by name, and a candidate is not earlier than itself', () => {
    const a = { sentAtMs: 5, name: 'Bea' }
    expect(earlierName({ sentAtMs: 5, name: 'Ana' }, a)).toBe(true)
    expect(earlierName(a, { sentAtMs: 5, name: 'Ana' })).toBe(false)
    expect(earlierName(a, a)).toBe(false)
    expect(earlierName({ sentAtMs: 6, name: 'Ana' }, a)).toBe(false)
  })

  it('counts only negative and very negative customer feelings as ending negative', () => {
    expect(
      ['very_negative', 'negative', 'neutral', 'positive', 'very_positive', 'unknown'].map(
        isNegative,
      ),
    ).toEqual([true, true, false, false, false, false])
  })

  it('refuses a stored summary it did not write, quoting at most 200 characters of it', () => {
    const long = `["unknown",${'1'.repeat(300)}]`
    try {
      parseRevisionSummary(long)
      expect.unreachable()
    } catch (error) {
      expect(error).toMatchObject({
        code: 'CONSUMER_EVENT_REJECTED',
        message: 'The stored summary of the previous revision is not one the aggregator writes',
        details: { summary: long.slice(0, 200) },
      })
    }
    expect(() => parseRevisionSummary('[1,"Ana"]')).toThrow(/not one the aggregator writes/u)
  })
})

describe('a batch, message by message', () => {
  it('counts every field of a message in its hour, its day and the totals, and nothing else', () => {
    const plan = planBatch([event({ sentiment: 'very_negative', sender: 'agent' })], ZONE)
    expect([...plan.increments.keys()]).toEqual(['0010|ana'])
    const fields = Object.fromEntries(plan.increments.get('0010|ana')!.fields)
    const one = (tag: string): Record<string, number> => ({
      [`${tag}|s.very_negative`]: 1,
      [`${tag}|f.agent`]: 1,
      [`${tag}|score`]: -2,
      [`${tag}|known`]: 1,
    })
    expect(fields).toEqual({ ...one(`h|${HOUR}`), ...one(`d|${DAY}`), ...one('t|0') })
    expect(plan.increments.get('0010|ana')).toMatchObject({ server: '0010', agentKey: 'ana' })
    expect(plan.names.get('0010|ana')).toEqual({
      server: '0010',
      agentKey: 'ana',
      sentAtMs: SENT.getTime(),
      name: 'Ana',
    })
  })

  it('counts a sender outside the schema under its own name, and a sentiment outside it as unknown', () => {
    const odd = event({
      sender: 'system' as PlannedEvent['sender'],
      sentiment: 'furious' as PlannedEvent['sentiment'],
    })
    const fields = Object.fromEntries(
      planBatch([odd, odd], ZONE).increments.get('0010|ana')!.fields,
    )
    expect(fields).toEqual({
      [`h|${HOUR}|s.unknown`]: 2,
      [`d|${DAY}|s.unknown`]: 2,
      't|0|s.unknown': 2,
      [`h|${HOUR}|f.system`]: 2,
      [`d|${DAY}|f.system`]: 2,
      't|0|f.system': 2,
    })
  })

  it('keeps one conversation per server, conversation and agent', () => {
    const plan = planBatch(
      [
        event(),
        event({ position: 1 }),
        event({ conn_id: 'CH-2' }),
        event({ server: '0020' }),
        event({ agent_name: 'Luis' }),
      ],
      ZONE,
    )
    expect([...plan.conversations.keys()].sort()).toEqual(
      [
        '["0010","CH-1","ana"]',
        '["0010","CH-2","ana"]',
        '["0020","CH-1","ana"]',
        '["0010","CH-1","luis"]',
      ].sort(),
    )
    expect(plan.conversations.get('["0010","CH-1","ana"]')).toMatchObject({
      server: '0010',
      connId: 'CH-1',
      agentKey: 'ana',
      lastMs: SENT.getTime(),
      lastHourMs: HOUR,
      lastDayMs: DAY,
      complete: false,
    })
    expect([...plan.dirty].sort()).toEqual(
      [
        `0010|ana|hour|${HOUR}`,
        `0010|ana|day|${DAY}`,
        `0010|luis|hour|${HOUR}`,
        `0010|luis|day|${DAY}`,
        `0020|ana|hour|${HOUR}`,
        `0020|ana|day|${DAY}`,
      ].sort(),
    )
  })

  it('moves a conversation to its latest message only, whatever the order of the batch', () => {
    const later = new Date('2025-02-12T06:00:00Z')
    const plan = planBatch(
      [
        event({ sent_at: later, sender: 'agent' }),
        event({ sent_at: SENT, position: 1 }),
        event({ sent_at: later, position: 1, sender: 'customer', sentiment: 'negative' }),
      ],
      ZONE,
    )
    const conv = plan.conversations.get('["0010","CH-1","ana"]')!
    expect(conv).toMatchObject({
      lastMs: later.getTime(),
      lastHourMs: Date.parse('2025-02-12T06:00:00Z'),
      lastDayMs: Date.parse('2025-02-12T05:00:00Z'),
    })
    // The latest customer message, by sent_at.
    expect(conv.lastCustomer).toEqual({
      ms: later.getTime(),
      position: 1,
      negative: true,
      corrected: false,
    })
    // At one instant the later position wins; an earlier message after it in the batch does not.
    const again = planBatch(
      [
        event({ sent_at: later, position: 2, sentiment: 'neutral' }),
        event({ sent_at: later, position: 1, sentiment: 'negative' }),
        event({ sent_at: SENT, position: 5, sentiment: 'negative' }),
      ],
      ZONE,
    )
    expect(again.conversations.get('["0010","CH-1","ana"]')!.lastCustomer).toMatchObject({
      position: 2,
      negative: false,
    })
  })

  it('takes the earlier of two names written at the same instant by string order', () => {
    const plan = planBatch([event({ agent_name: 'ana' }), event({ agent_name: 'ANA' })], ZONE)
    expect(plan.names.get('0010|ana')?.name).toBe('ANA')
  })

  it('takes back a revision in the counts only: no name, no conversation, no completion', () => {
    const plan = planBatch(
      [event({ weight: -1, agent_name: 'ANA', sent_at: new Date(0), position: 2 })],
      ZONE,
    )
    expect(plan.conversations.size).toBe(0)
    expect(plan.names.get('0010|ana')?.name).toBe('ANA')
    expect(plan.increments.get('0010|ana')!.fields.get('t|0|s.positive')).toBe(-1)
    expect(plan.increments.get('0010|ana')!.fields.get('t|0|score')).toBe(-1)
  })
})

describe('the figures of a window', () => {
  it('gives every count by sentiment and sender, the conversations and the means', () => {
    const stored: Record<string, number> = {
      's.very_negative': 1,
      's.negative': 2,
      's.neutral': 3,
      's.positive': 4,
      's.very_positive': 5,
      's.unknown': 6,
      'f.customer': 10,
      'f.agent': 8,
      'f.bot': 2,
      'f.other': 1,
      score: 15,
      known: 15,
      conv: 4,
      neg: 2,
      'x.neutral': 2,
      xscore: 0,
      xknown: 2,
    }
    expect(figuresOf((metric) => stored[metric] ?? 0)).toEqual({
      messages: 21,
      messages_by_sentiment: {
        very_negative: 1,
        negative: 2,
        neutral: 3,
        positive: 4,
        very_positive: 5,
        unknown: 6,
      },
      messages_by_sender: { customer: 10, agent: 8, bot: 2, other: 1 },
      conversations: 4,
      mean_score: 1,
      conversations_ending_negative: 2,
      messages_by_text_sentiment: {
        very_negative: 0,
        negative: 0,
        neutral: 2,
        positive: 0,
        very_positive: 0,
        unknown: 0,
      },
      text_mean_score: 0,
    })
  })
})
