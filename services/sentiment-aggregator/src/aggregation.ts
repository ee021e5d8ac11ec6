/*
 * The pure rules of AgentSentiment v1 (ARCHITECTURE.md: Aggregates): agent keys, scores, windows,
 * the state fields a message changes, and how a batch is reduced per conversation before the
 * conversation script decides, with the stored state, what moves. README: Semantics.
 */
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import { dayWindow, hourWindow, type Granularity } from './windows.js'

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

/** `agent_key`: NFC, trimmed, inner whitespace collapsed to one space, lower-cased. */
export function agentKeyOf(agentName: string): string {
  return agentName.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase()
}

/** The window tag in a state field: `h` hour, `d` day, `t` all time (the agent's totals). */
export type WindowTag = 'h' | 'd' | 't'
export const tagOf = (granularity: Granularity): WindowTag => (granularity === 'hour' ? 'h' : 'd')

/** Metrics stored per window; `score` is the sum of known scores, `known` their count. */
export const metrics = [
  ...sentiments.map((s) => `s.${s}`),
  ...senders.map((s) => `f.${s}`),
  'score',
  'known',
  'conv',
  'neg',
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
  const startMs = Number(member.slice(last + 1))
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
  /** The batch's last customer message by (sent_at, position), if any. */
  lastCustomer?: { ms: number; position: number; negative: boolean }
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

const add = (fields: Map<string, number>, field: string, by = 1): void => {
  fields.set(field, (fields.get(field) ?? 0) + by)
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

/**
 * Reduces the fresh (de-duplicated) events of a batch: message counts per window (which commute, so
 * they need no stored state), and per conversation its latest message, its latest customer
 * message and whether it was seen complete, which the conversation script merges with the state.
 */
export function planBatch(events: Iterable<ChatMessage>, zone: string): BatchPlan {
  const plan: BatchPlan = {
    increments: new Map(),
    names: new Map(),
    dirty: new Set(),
    conversations: new Map(),
  }
  for (const event of events) {
    const agentKey = agentKeyOf(event.agent_name)
    const ms = event.sent_at.getTime()
    const hour = hourWindow(ms).startMs
    const day = dayWindow(ms, zone).startMs
    const agentId = `${event.server}|${agentKey}`
    let inc = plan.increments.get(agentId)
    if (inc === undefined) {
      inc = { server: event.server, agentKey, fields: new Map() }
      plan.increments.set(agentId, inc)
    }
    const score = scoreOf(event.sentiment)
    const sentiment = (sentiments as readonly string[]).includes(event.sentiment)
      ? event.sentiment
      : 'unknown'
    for (const [tag, start] of [
      ['h', hour],
      ['d', day],
      ['t', 0],
    ] as const) {
      add(inc.fields, fieldOf(tag, start, `s.${sentiment}`))
      add(inc.fields, fieldOf(tag, start, `f.${event.sender}`))
      if (score !== undefined) {
        add(inc.fields, fieldOf(tag, start, 'score'), score)
        add(inc.fields, fieldOf(tag, start, 'known'))
      }
    }
    plan.dirty.add(dirtyMember(event.server, agentKey, 'hour', hour))
    plan.dirty.add(dirtyMember(event.server, agentKey, 'day', day))

    const candidate = { server: event.server, agentKey, sentAtMs: ms, name: event.agent_name }
    const named = plan.names.get(agentId)
    if (named === undefined || earlierName(candidate, named)) plan.names.set(agentId, candidate)

    const convId = JSON.stringify([event.server, event.conn_id, agentKey])
    let conv = plan.conversations.get(convId)
    if (conv === undefined) {
      conv = {
        server: event.server,
        connId: event.conn_id,
        agentKey,
        lastMs: ms,
        lastHourMs: hour,
        lastDayMs: day,
        complete: false,
      }
      plan.conversations.set(convId, conv)
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
        conv.lastCustomer = { ms, position: event.position, negative: isNegative(event.sentiment) }
      }
    }
  }
  return plan
}

/** One window's figures, as the HTTP API and the output topic give them. */
export interface WindowFigures {
  messages: number
  messages_by_sentiment: Record<Sentiment, number>
  messages_by_sender: Record<Sender, number>
  conversations: number
  mean_score: number | null
  conversations_ending_negative: number
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
  const known = values('known')
  return {
    messages: sentiments.reduce((total, s) => total + bySentiment[s], 0),
    messages_by_sentiment: bySentiment,
    messages_by_sender: bySender,
    conversations: values('conv'),
    mean_score: known > 0 ? values('score') / known : null,
    conversations_ending_negative: values('neg'),
  }
}
