/*
 * The pure rules of AgentSentiment (ARCHITECTURE.md: Aggregates): agent keys, scores, windows,
 * the state fields a message changes, and how a batch is reduced per conversation before the
 * conversation script decides, with the stored state, what moves. Two sources are kept apart
 * everywhere: `upstream` (Wolkvox's feeling, `s.*`, `score`, `known`) and `text` (the project's
 * own scorer, `x.*`, `xscore`, `xknown`, for customer messages Wolkvox gave no feeling). README:
 * Semantics, Sources.
 */
import { AppError } from '@wolkvox-chat-stream/errors'
import { agentKeyOf, type ChatMessage } from '@wolkvox-chat-stream/events'
import { scoreText } from '@wolkvox-chat-stream/text-sentiment'
import { dayWindow, hourWindow, type Granularity } from './windows.js'

/** The fields of a ChatMessage the aggregator reads; the kit decodes only these. */
export const eventFields = [
  'event_id',
  'server',
  'conn_id',
  'agent_name',
  'sent_at',
  'position',
  'conversation_length',
  'sender',
  'sentiment',
  'message',
  'revision',
  'polled_at',
] as const satisfies readonly (keyof ChatMessage)[]

/** A ChatMessage as the aggregator reads it. */
export type SentimentEvent = Pick<ChatMessage, (typeof eventFields)[number]>

/** The five values a text is scored with, in score order (a text is never `unknown`). */
export const textSentiments = [
  'very_negative',
  'negative',
  'neutral',
  'positive',
  'very_positive',
] as const
export type TextSentiment = (typeof textSentiments)[number]

/**
 * An event as {@link planBatch} counts it: `weight` -1 takes back a revision applied before (its
 * message counts only), and `corrected` marks the newer revision that replaces it, so that its
 * conversation's last customer message may change its feeling in place. `textSentiment`, when
 * given, is the sentiment the message is counted with from its text (`null`: not counted from
 * text), as a takeback must repeat what was counted; when absent, {@link textSentimentOf} decides.
 */
export type PlannedEvent = Pick<
  SentimentEvent,
  | 'server'
  | 'conn_id'
  | 'agent_name'
  | 'sent_at'
  | 'position'
  | 'conversation_length'
  | 'sender'
  | 'sentiment'
  | 'message'
> & { weight?: 1 | -1; corrected?: boolean; textSentiment?: TextSentiment | null }

/**
 * Whether a message is counted from its text (README: Sources): Wolkvox gave it no feeling
 * (`sentiment` unknown: `feeling` missing or empty), the customer wrote it, and its text is not
 * empty after trimming. Its upstream counts do not change (it stays `unknown` there).
 */
export const countsFromText = (
  event: Pick<SentimentEvent, 'sentiment' | 'sender' | 'message'>,
): boolean =>
  // /\S/ is "not empty after trim()" (the same white space) without copying a long message.
  event.sentiment === 'unknown' && event.sender === 'customer' && /\S/u.test(event.message)

// The summary (kit) and the batch (planBatch) both need an event's text sentiment: the kit hands
// both the same object, so the text is scored once.
const scoredTexts = new WeakMap<object, TextSentiment>()

/**
 * The sentiment a message is counted with from its text: `textSentiment` when the event carries
 * it (a takeback), else the scorer's sentiment of `message` when {@link countsFromText}, else
 * undefined (not counted from text).
 */
export function textSentimentOf(event: PlannedEvent): TextSentiment | undefined {
  if (event.textSentiment !== undefined) return event.textSentiment ?? undefined
  if (!countsFromText(event)) return undefined
  let sentiment = scoredTexts.get(event)
  if (sentiment === undefined) {
    sentiment = scoreText(event.message).sentiment
    scoredTexts.set(event, sentiment)
  }
  return sentiment
}

/**
 * What the aggregator keeps of an applied revision to take it back later (the kit stores it per
 * event_id, no message text): the sentiment it was counted with, the agent it was counted under,
 * and, only when it was counted from its text, that text sentiment:
 * `["unknown","Ana","negative"]`. A two-element summary (written before text was scored, or a
 * message not counted from text) reads as "not counted from text".
 */
export function revisionSummary(event: PlannedEvent): string {
  const text = textSentimentOf(event)
  return JSON.stringify(
    text === undefined
      ? [event.sentiment, event.agent_name]
      : [event.sentiment, event.agent_name, text],
  )
}

/** A stored revision summary read back (see {@link revisionSummary}). */
export interface RevisionSummary {
  sentiment: PlannedEvent['sentiment']
  agentName: string
  /** null when the revision was not counted from its text (or the summary predates text). */
  textSentiment: TextSentiment | null
}

const isTextSentiment = (value: unknown): value is TextSentiment =>
  (textSentiments as readonly unknown[]).includes(value)

/**
 * Reads a summary written by {@link revisionSummary}, by this version or the one before it (two
 * elements).
 * @throws AppError `CONSUMER_EVENT_REJECTED` for a summary neither wrote: the event cannot be
 * taken back exactly, so it goes to the dead-letter topic rather than skew the counts.
 */
export function parseRevisionSummary(summary: string): RevisionSummary {
  let parsed: unknown
  try {
    parsed = JSON.parse(summary)
  } catch {
    parsed = undefined
  }
  const [sentiment, agentName, text] = Array.isArray(parsed) ? (parsed as unknown[]) : []
  if (
    typeof sentiment !== 'string' ||
    typeof agentName !== 'string' ||
    !(text === undefined || isTextSentiment(text))
  ) {
    throw new AppError(
      'CONSUMER_EVENT_REJECTED',
      'The stored summary of the previous revision is not one the aggregator writes',
      { details: { summary: summary.slice(0, 200) } },
    )
  }
  return {
    sentiment: sentiment as PlannedEvent['sentiment'],
    agentName,
    textSentiment: text ?? null,
  }
}

/**
 * The two planned events of a correction: the previous revision taken back (with the text
 * sentiment it was counted with, if any) and the new one counted, both under the agent the
 * message was first counted under (an agent name changed upstream later does not move a
 * message: README). The new revision counts from its text by the same rule as a new message:
 * a feeling that arrives late moves the message from the text counts to the upstream ones.
 * @throws AppError `CONSUMER_EVENT_REJECTED` for a summary the aggregator did not write.
 */
export function correctionEvents(event: PlannedEvent, summary: string): PlannedEvent[] {
  const { sentiment, agentName, textSentiment } = parseRevisionSummary(summary)
  return [
    { ...event, agent_name: agentName, sentiment, textSentiment, weight: -1 },
    {
      ...event,
      agent_name: agentName,
      corrected: true,
      textSentiment: textSentimentOf(event) ?? null,
    },
  ]
}

/** Sentiment values of ChatMessage, in score order, then `unknown`. */
export const sentiments = [
  'very_negative',
  'negative',
  'neutral',
  'positive',
  'very_positive',
  'unknown',
] as const
export type Sentiment = (typeof sentiments)[number]

/** Sender values of ChatMessage. */
export const senders = ['customer', 'agent', 'bot', 'other'] as const
export type Sender = (typeof senders)[number]

const SCORES: Readonly<Record<string, number>> = {
  very_negative: -2,
  negative: -1,
  neutral: 0,
  positive: 1,
  very_positive: 2,
}

/** The score of a sentiment, or undefined for `unknown` (and anything else). */
export function scoreOf(sentiment: string): number | undefined {
  return SCORES[sentiment]
}

/** Whether a customer message with this sentiment makes a chat "end negative". */
export const isNegative = (sentiment: string): boolean =>
  sentiment === 'negative' || sentiment === 'very_negative'

export { agentKeyOf }

const agentKeys = new Map<string, string>()

/** {@link agentKeyOf}, remembered per display name: a batch repeats a few names many times. */
function cachedAgentKeyOf(agentName: string): string {
  let key = agentKeys.get(agentName)
  if (key === undefined) {
    key = agentKeyOf(agentName)
    if (agentKeys.size >= 10_000) agentKeys.clear()
    agentKeys.set(agentName, key)
  }
  return key
}

/** The window tag in a state field: `h` hour, `d` day, `t` all time (the agent's totals). */
export type WindowTag = 'h' | 'd' | 't'
export const tagOf = (granularity: Granularity): WindowTag => (granularity === 'hour' ? 'h' : 'd')

/**
 * Metrics stored per window. Upstream: `s.<sentiment>`, `score` (the sum of known scores) and
 * `known` (their count). Senders `f.<sender>`; conversations `conv` and `neg`. Text (README:
 * Sources): `x.<sentiment>` (the five values), `xscore` and `xknown` (the same sum and count over
 * the text-scored messages). A field missing (state written before text was scored) is 0.
 */
export const metrics = [
  ...sentiments.map((s) => `s.${s}`),
  ...senders.map((s) => `f.${s}`),
  'score',
  'known',
  'conv',
  'neg',
  ...textSentiments.map((s) => `x.${s}`),
  'xscore',
  'xknown',
] as const

/** The state field of a metric in a window: `<tag>|<startMs>|<metric>` (totals: `t|0|…`). */
export const fieldOf = (tag: WindowTag, startMs: number, metric: string): string =>
  `${tag}|${startMs}|${metric}`

/** The member of the dirty hash for a window: `server|agent_key|granularity|startMs`. */
export const dirtyMember = (
  server: string,
  agentKey: string,
  granularity: Granularity,
  startMs: number,
): string => `${server}|${agentKey}|${granularity}|${startMs}`

/** Reads a dirty member back; undefined for a malformed one. */
export function parseDirtyMember(
  member: string,
): { server: string; agentKey: string; granularity: Granularity; startMs: number } | undefined {
  const first = member.indexOf('|')
  const last = member.lastIndexOf('|')
  const beforeLast = member.lastIndexOf('|', last - 1)
  if (first < 0 || beforeLast <= first) return undefined
  const granularity = member.slice(beforeLast + 1, last)
  // Digits only: Number() also reads '' and ' ' as 0, and '0x10' or '1e3' as other numbers.
  const digits = member.slice(last + 1)
  const startMs = /^-?\d+$/.test(digits) ? Number(digits) : Number.NaN
  if ((granularity !== 'hour' && granularity !== 'day') || !Number.isSafeInteger(startMs))
    return undefined
  return {
    server: member.slice(0, first),
    agentKey: member.slice(first + 1, beforeLast),
    granularity,
    startMs,
  }
}

/** What one conversation's events of a batch say, for the conversation script. */
export interface ConversationDelta {
  server: string
  connId: string
  agentKey: string
  /** The latest sent_at among the batch's events of the conversation, and its windows. */
  lastMs: number
  lastHourMs: number
  lastDayMs: number
  /**
   * The batch's last customer message by (sent_at, position), if any; `corrected` when it is a
   * newer revision of a message applied before (its feeling replaces that one's in place).
   */
  lastCustomer?: { ms: number; position: number; negative: boolean; corrected: boolean }
  /** A message with position = conversation_length - 1 was in the batch. */
  complete: boolean
}

/** What a batch changes, before the stored state is consulted. */
export interface BatchPlan {
  /** Per (server, agent_key): field increments of the message counts. */
  increments: Map<string, { server: string; agentKey: string; fields: Map<string, number> }>
  /** Per (server, agent_key): the earliest (sent_at, display name) of the batch. */
  names: Map<string, { server: string; agentKey: string; sentAtMs: number; name: string }>
  /** Dirty window members the message counts touch. */
  dirty: Set<string>
  conversations: Map<string, ConversationDelta>
}

/** The name candidate ordering: the earliest sent_at, then the smaller string. */
export const earlierName = (
  a: { sentAtMs: number; name: string },
  b: { sentAtMs: number; name: string },
): boolean => a.sentAtMs < b.sentAtMs || (a.sentAtMs === b.sentAtMs && a.name < b.name)

/** The name candidate as stored (its string order is its time order): `<ms, 15 digits>|<name>`. */
export const nameValue = (sentAtMs: number, name: string): string =>
  `${String(sentAtMs).padStart(15, '0')}|${name}`

/** Reads a stored name candidate. */
export function parseNameValue(value: string): { sentAtMs: number; name: string } {
  const bar = value.indexOf('|')
  return { sentAtMs: Number(value.slice(0, bar)), name: value.slice(bar + 1) }
}

// Counts of one window while a batch is reduced, by index: the sentiments, the senders, the score
// sum and the known count (upstream), then the text sentiments, their score sum and count.
const SENTIMENT_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  sentiments.map((s, i) => [s, i]),
)
const SENDER_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  senders.map((s, i) => [s, sentiments.length + i]),
)
const SCORE_AT = sentiments.length + senders.length
const KNOWN_AT = SCORE_AT + 1
const TEXT_INDEX: Readonly<Record<string, number>> = Object.fromEntries(
  textSentiments.map((s, i) => [s, KNOWN_AT + 1 + i]),
)
const XSCORE_AT = KNOWN_AT + 1 + textSentiments.length
const XKNOWN_AT = XSCORE_AT + 1
/** The metric of each index above. */
const COUNTED: readonly string[] = [
  ...sentiments.map((s) => `s.${s}`),
  ...senders.map((s) => `f.${s}`),
  'score',
  'known',
  ...textSentiments.map((s) => `x.${s}`),
  'xscore',
  'xknown',
]

/** One agent's counts in a batch: per hour and day start, and the totals. */
interface AgentCounts {
  server: string
  agentKey: string
  hours: Map<number, number[]>
  days: Map<number, number[]>
  total: number[]
  /** Senders outside the schema's symbols, counted by name per window field (never in practice). */
  other: Map<string, number>
  name: { server: string; agentKey: string; sentAtMs: number; name: string }
  conversations: Map<string, ConversationDelta>
}

const countsOf = (windows: Map<number, number[]>, startMs: number): number[] => {
  let counts = windows.get(startMs)
  if (counts === undefined) {
    counts = new Array<number>(COUNTED.length).fill(0)
    windows.set(startMs, counts)
  }
  return counts
}

function count(
  counts: number[],
  sentimentAt: number,
  senderAt: number | undefined,
  score: number | undefined,
  textAt: number | undefined,
  textScore: number | undefined,
  weight: number,
): void {
  counts[sentimentAt]! += weight
  if (senderAt !== undefined) counts[senderAt]! += weight
  if (score !== undefined) {
    counts[SCORE_AT]! += score * weight
    counts[KNOWN_AT]! += weight
  }
  if (textAt !== undefined) {
    counts[textAt]! += weight
    counts[XSCORE_AT]! += textScore! * weight
    counts[XKNOWN_AT]! += weight
  }
}

/**
 * Reduces the fresh (de-duplicated) events of a batch: message counts per window (which commute, so
 * they need no stored state), and per conversation its latest message, its latest customer
 * message and whether it was seen complete, which the conversation script merges with the state.
 * Counts are summed as numbers per agent and window; field names are made once per batch.
 */
export function planBatch(events: Iterable<PlannedEvent>, zone: string): BatchPlan {
  // server -> display name -> the agent's counts (names of one agent key share them)
  const byName = new Map<string, Map<string, AgentCounts>>()
  const byAgent = new Map<string, AgentCounts>()
  for (const event of events) {
    let names = byName.get(event.server)
    if (names === undefined) byName.set(event.server, (names = new Map<string, AgentCounts>()))
    let agent = names.get(event.agent_name)
    const ms = event.sent_at.getTime()
    if (agent === undefined) {
      const agentKey = cachedAgentKeyOf(event.agent_name)
      const agentId = `${event.server}|${agentKey}`
      agent = byAgent.get(agentId)
      if (agent === undefined) {
        agent = {
          server: event.server,
          agentKey,
          hours: new Map(),
          days: new Map(),
          total: new Array<number>(COUNTED.length).fill(0),
          other: new Map(),
          name: { server: event.server, agentKey, sentAtMs: ms, name: event.agent_name },
          conversations: new Map(),
        }
        byAgent.set(agentId, agent)
      }
      names.set(event.agent_name, agent)
    }
    const hour = hourWindow(ms).startMs
    const day = dayWindow(ms, zone).startMs
    const score = scoreOf(event.sentiment)
    const sentimentAt = SENTIMENT_INDEX[event.sentiment] ?? SENTIMENT_INDEX.unknown!
    const senderAt = SENDER_INDEX[event.sender]
    const text = textSentimentOf(event)
    const textAt = text === undefined ? undefined : TEXT_INDEX[text]
    const textScore = text === undefined ? undefined : scoreOf(text)
    const weight = event.weight ?? 1
    count(countsOf(agent.hours, hour), sentimentAt, senderAt, score, textAt, textScore, weight)
    count(countsOf(agent.days, day), sentimentAt, senderAt, score, textAt, textScore, weight)
    count(agent.total, sentimentAt, senderAt, score, textAt, textScore, weight)
    if (senderAt === undefined) {
      for (const field of [
        fieldOf('h', hour, `f.${event.sender}`),
        fieldOf('d', day, `f.${event.sender}`),
        fieldOf('t', 0, `f.${event.sender}`),
      ])
        agent.other.set(field, (agent.other.get(field) ?? 0) + weight)
    }
    // A revision taken back changes message counts only; its replacement carries the rest.
    if (weight < 0) continue

    if (earlierName({ sentAtMs: ms, name: event.agent_name }, agent.name)) {
      agent.name = {
        server: event.server,
        agentKey: agent.agentKey,
        sentAtMs: ms,
        name: event.agent_name,
      }
    }

    let conv = agent.conversations.get(event.conn_id)
    if (conv === undefined) {
      conv = {
        server: event.server,
        connId: event.conn_id,
        agentKey: agent.agentKey,
        lastMs: ms,
        lastHourMs: hour,
        lastDayMs: day,
        complete: false,
      }
      agent.conversations.set(event.conn_id, conv)
    } else if (ms > conv.lastMs) {
      conv.lastMs = ms
      conv.lastHourMs = hour
      conv.lastDayMs = day
    }
    if (event.position === event.conversation_length - 1) conv.complete = true
    if (event.sender === 'customer') {
      const last = conv.lastCustomer
      if (
        last === undefined ||
        ms > last.ms ||
        (ms === last.ms && event.position > last.position)
      ) {
        conv.lastCustomer = {
          ms,
          position: event.position,
          negative: isNegative(event.sentiment),
          corrected: event.corrected === true,
        }
      }
    }
  }

  const plan: BatchPlan = {
    increments: new Map(),
    names: new Map(),
    dirty: new Set(),
    conversations: new Map(),
  }
  for (const [agentId, agent] of byAgent) {
    const fields = new Map<string, number>()
    // Every field whose sum is not 0, each on its own: a correction between two known
    // sentiments leaves `known` unchanged (0) while `score` moves, and the move must be written.
    const put = (tag: WindowTag, startMs: number, counts: number[]): void => {
      for (let i = 0; i < COUNTED.length; i++) {
        if (counts[i] !== 0) fields.set(fieldOf(tag, startMs, COUNTED[i]!), counts[i]!)
      }
    }
    for (const [startMs, counts] of agent.hours) put('h', startMs, counts)
    for (const [startMs, counts] of agent.days) put('d', startMs, counts)
    put('t', 0, agent.total)
    for (const [field, by] of agent.other) fields.set(field, by)
    plan.increments.set(agentId, { server: agent.server, agentKey: agent.agentKey, fields })
    plan.names.set(agentId, agent.name)
    for (const startMs of agent.hours.keys())
      plan.dirty.add(dirtyMember(agent.server, agent.agentKey, 'hour', startMs))
    for (const startMs of agent.days.keys())
      plan.dirty.add(dirtyMember(agent.server, agent.agentKey, 'day', startMs))
    for (const conv of agent.conversations.values())
      plan.conversations.set(JSON.stringify([conv.server, conv.connId, conv.agentKey]), conv)
  }
  return plan
}

/** One window's figures, as the HTTP API and the output topic give them. */
export interface WindowFigures {
  messages: number
  /** Upstream: per Wolkvox's feeling (`unknown` when it gave none). */
  messages_by_sentiment: Record<Sentiment, number>
  messages_by_sender: Record<Sender, number>
  conversations: number
  /** Upstream: the mean over messages with a feeling. */
  mean_score: number | null
  conversations_ending_negative: number
  /**
   * Text: customer messages without a Wolkvox feeling, per sentiment scored from their text
   * (`unknown` always 0); each is also in `messages_by_sentiment.unknown`.
   */
  messages_by_text_sentiment: Record<Sentiment, number>
  /** Text: the mean over `messages_by_text_sentiment`; null when there is none. */
  text_mean_score: number | null
}

/** The figures of a window from its merged metric values (missing ones are 0). */
export function figuresOf(values: (metric: string) => number): WindowFigures {
  const bySentiment = Object.fromEntries(sentiments.map((s) => [s, values(`s.${s}`)])) as Record<
    Sentiment,
    number
  >
  const bySender = Object.fromEntries(senders.map((s) => [s, values(`f.${s}`)])) as Record<
    Sender,
    number
  >
  const byText = Object.fromEntries(
    sentiments.map((s) => [s, s === 'unknown' ? 0 : values(`x.${s}`)]),
  ) as Record<Sentiment, number>
  const known = values('known')
  const textKnown = values('xknown')
  return {
    messages: sentiments.reduce((total, s) => total + bySentiment[s], 0),
    messages_by_sentiment: bySentiment,
    messages_by_sender: bySender,
    conversations: values('conv'),
    mean_score: known > 0 ? values('score') / known : null,
    conversations_ending_negative: values('neg'),
    messages_by_text_sentiment: byText,
    text_mean_score: textKnown > 0 ? values('xscore') / textKnown : null,
  }
}
