/*
 * What the quality service keeps per conversation and how a ChatQuality record is made of it. Each
 * message is kept as its time, position and sender, with the protocol matches found in it when it
 * was handled (never its text); the record is recomputed from these after any replay, in
 * conversation order whatever order the messages arrived in. README: Definitions, How state is
 * kept.
 */
import { createHash } from 'node:crypto'
import { agentKeyOf, type ChatMessage, type ChatQuality } from '@wolkvox-chat-stream/events'
import {
  classifyMessage,
  type CompiledRules,
  type Sender,
  type TermKind,
  type TramiteRule,
} from '@wolkvox-chat-stream/keyword-rules'
import { parseMember } from '@wolkvox-chat-stream/service-kit'
import { dayWindow, hourWindow } from '@wolkvox-chat-stream/zoned-time'
import { encodeFcrEntry, identityKeyOf } from './fcr.js'
import { bucketOf } from './histogram.js'
import { checkKindOf, checkPassed } from './protocol.js'
import { conversationTimings, standardsMet, type QualityStandards } from './timings.js'

/** One protocol match as kept: check id, kind, term, matched text, start, end. */
export type StoredMatch = [string, TermKind, string, string, number, number]

/** A message as kept in its conversation's hash (field `m:<event_id>`). */
export interface StoredMessage {
  /** sent_at (ms), position, sender. */
  t: number
  p: number
  s: Sender
  /** Protocol matches; absent when none. */
  x?: StoredMatch[]
  /** The customer's identity key (fcr.ts: identityKeyOf); absent when the message has none. */
  i?: string
}

/** The fields of a ChatMessage the service reads; the kit decodes only these. */
export const eventFields = [
  'event_id',
  'server',
  'conn_id',
  'agent_name',
  'channel_normalized',
  'sent_at',
  'position',
  'conversation_length',
  'sender',
  'message',
  'revision',
  'polled_at',
  'customer_id',
  'customer_phone',
] as const satisfies readonly (keyof ChatMessage)[]

/** A ChatMessage as the service reads it. */
export type QualityEvent = Pick<ChatMessage, (typeof eventFields)[number]>

/** What the conversation keeps of its first message: its channel and agent name. */
export const keepFirst = (event: QualityEvent): string =>
  JSON.stringify([event.channel_normalized, event.agent_name])

/** What the conversation keeps of a message, matched with the rules in force. */
export function keepMessage(rules: CompiledRules, event: QualityEvent): string {
  const kept: StoredMessage = { t: event.sent_at.getTime(), p: event.position, s: event.sender }
  const identity = identityKeyOf(event.customer_id, event.customer_phone)
  if (identity !== undefined) kept.i = identity
  const { explanations } = classifyMessage(rules, event.message, event.sender)
  if (explanations.length > 0)
    kept.x = explanations.map((e) => [e.rule, e.kind, e.term, e.matchedText, e.start, e.end])
  return JSON.stringify(kept)
}

/** What was last emitted (and counted) for a conversation. */
export interface Emitted {
  /** Fingerprint of the content (everything but the rules version and the time). */
  fingerprint: string
  computedAtMs: number
  /** The rules version of the last record. */
  version: string
  /** The agent key and the state fields the conversation is counted under ('\n'-separated). */
  agentKey: string
  fields: string
}

/** A conversation's state, as read from its hash. */
export interface QualityState {
  server: string
  connId: string
  startedAtMs: number
  channel: string
  agentName: string
  complete: boolean
  /** The rules version in force when a message of it was last handled. */
  version: string
  /** Bumped by every change of its messages; the emitter records only what it read. */
  changes: string
  /** The latest publish time (record timestamp, ms) of its messages. */
  lastPublishMs: number
  /** In conversation order: position, then sent_at, then event_id. */
  messages: { eventId: string; kept: StoredMessage }[]
  emitted?: Emitted
  /** The FCR entry stored with the last record (fcr.ts: encodeFcrEntry), if any. */
  fcrEntry?: string
}

/** Reads a conversation hash; undefined when it holds no conversation. */
export function parseState(
  member: string,
  hash: Readonly<Record<string, string>>,
): QualityState | undefined {
  if (hash.first === undefined) return undefined
  const messages: QualityState['messages'] = []
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('m:'))
      messages.push({ eventId: field.slice(2), kept: JSON.parse(value) as StoredMessage })
  }
  messages.sort(
    (a, b) =>
      a.kept.p - b.kept.p ||
      a.kept.t - b.kept.t ||
      (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
  )
  let channel = ''
  let agentName = ''
  try {
    ;[channel, agentName] = JSON.parse(hash.ch ?? '["",""]') as [string, string]
  } catch {
    // Left empty: a hash written by something else.
  }
  const { server, connId } = parseMember(member)
  return {
    server,
    connId,
    startedAtMs: Number(hash.first),
    channel,
    agentName,
    complete: hash.done === '1',
    version: hash.v ?? '',
    changes: hash.n ?? '',
    lastPublishMs: Number(hash.pub ?? 0),
    messages,
    ...(hash.fe === undefined ? {} : { fcrEntry: hash.fe }),
    ...(hash.eh === undefined
      ? {}
      : {
          emitted: {
            fingerprint: hash.eh,
            computedAtMs: Number(hash.eat),
            version: hash.cv ?? '',
            agentKey: hash.ca ?? '',
            fields: hash.cf ?? '',
          },
        }),
  }
}

/** A conversation's figures: the record's fields but the time they were computed. */
export type Computed = Omit<ChatQuality, 'computed_at'>

/**
 * Computes a conversation's figures: timings and standards (timings.ts), and one check per rule of
 * `checks` (the rules in force, in the file's order) from the matches kept with its messages.
 */
export function qualityOf(
  state: QualityState,
  checks: readonly Pick<TramiteRule, 'id'>[],
  standards: QualityStandards,
): Computed {
  const timings = conversationTimings(
    state.messages.map(({ kept }) => ({ position: kept.p, sentAtMs: kept.t, sender: kept.s })),
  )
  const met = standardsMet(timings, standards)
  let endedAtMs = state.startedAtMs
  for (const { kept } of state.messages) endedAtMs = Math.max(endedAtMs, kept.t)
  return {
    server: state.server,
    conn_id: state.connId,
    agent_key: agentKeyOf(state.agentName),
    agent_name: state.agentName,
    channel: state.channel,
    started_at: new Date(state.startedAtMs),
    ended_at: new Date(endedAtMs),
    complete: state.complete,
    first_response_ms: timings.firstResponseMs,
    handoff_ms: timings.handoffMs,
    response_gaps_ms: timings.responseGapsMs,
    longest_wait_ms: timings.longestWaitMs,
    last_turn_unanswered: timings.lastTurnUnanswered,
    duration_ms: timings.durationMs,
    messages: timings.messages,
    first_response_target_ms: standards.firstResponseTargetMs,
    response_gap_target_ms: standards.responseGapTargetMs,
    meets_first_response: met.firstResponse,
    meets_response_gaps: met.responseGaps,
    checks: checks.map(({ id }) => {
      const kind = checkKindOf(id)
      const explanations = state.messages.flatMap(({ eventId, kept }) =>
        (kept.x ?? [])
          .filter((m) => m[0] === id)
          .map(([, termKind, term, matched, start, end]) => ({
            term,
            kind: termKind,
            event_id: eventId,
            matched_text: matched,
            start,
            end,
          })),
      )
      return { check: id, kind, passed: checkPassed(kind, explanations.length > 0), explanations }
    }),
    rule_set_version: state.version,
  }
}

/** Fingerprint of a conversation's figures: everything but the rules version. */
export function fingerprint(c: Computed): string {
  const { rule_set_version: _version, ...content } = c
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 24)
}

/** The record of a conversation's figures. */
export const recordOf = (c: Computed, computedAtMs: number): ChatQuality => ({
  ...c,
  computed_at: new Date(computedAtMs),
})

/** The window tag of a state field: `h` UTC hour, `d` local day, `t` all time. */
export type WindowTag = 'h' | 'd' | 't'

/**
 * The per-agent counters a conversation adds one to (README: Per-agent figures): `n`
 * conversations; `fr`/`fr.ok` first-response standard applicable/met; `rg`/`rg.ok` the same for
 * response gaps; `frb.<i>` the first response's histogram bucket; `c.<check>`/`c.<check>.ok`
 * checked/passed. Each for its hour, its local day and the agent's totals.
 */
export function metricsOf(c: Computed): string[] {
  const metrics = ['n']
  if (c.meets_first_response !== null) metrics.push('fr')
  if (c.meets_first_response === true) metrics.push('fr.ok')
  if (c.meets_response_gaps !== null) metrics.push('rg')
  if (c.meets_response_gaps === true) metrics.push('rg.ok')
  if (c.first_response_ms !== null) metrics.push(`frb.${bucketOf(c.first_response_ms)}`)
  for (const check of c.checks) {
    metrics.push(`c.${check.check}`)
    if (check.passed) metrics.push(`c.${check.check}.ok`)
  }
  return metrics
}

/** A state field: `<tag>|<window start ms>|<metric>`. */
export const fieldOf = (tag: WindowTag, startMs: number, metric: string): string =>
  `${tag}|${startMs}|${metric}`

/** Reads a state field back; undefined for anything else. */
export function parseField(
  field: string,
): { tag: WindowTag; startMs: number; metric: string } | undefined {
  const first = field.indexOf('|')
  const second = field.indexOf('|', first + 1)
  if (first !== 1 || second === -1) return undefined
  const tag = field[0] as WindowTag
  if (tag !== 'h' && tag !== 'd' && tag !== 't') return undefined
  const startMs = Number(field.slice(2, second))
  if (!Number.isSafeInteger(startMs)) return undefined
  return { tag, startMs, metric: field.slice(second + 1) }
}

/** Where a conversation is counted: its agent and the fields of its hour, local day and totals. */
export function contributionOf(c: Computed, zone: string): { agentKey: string; fields: string[] } {
  const startedAtMs = c.started_at.getTime()
  const hour = hourWindow(startedAtMs).startMs
  const day = dayWindow(startedAtMs, zone).startMs
  const fields: string[] = []
  for (const metric of metricsOf(c))
    fields.push(fieldOf('h', hour, metric), fieldOf('d', day, metric), fieldOf('t', 0, metric))
  return { agentKey: c.agent_key, fields }
}

/**
 * The FCR entry of a conversation as computed (fcr.ts): the identity of its first message that
 * has one (in conversation order), its start and end, agent and channel.
 */
export function fcrEntryOf(state: QualityState, c: Computed): string {
  return encodeFcrEntry({
    identity: state.messages.find(({ kept }) => kept.i !== undefined)?.kept.i,
    startedAtMs: c.started_at.getTime(),
    endedAtMs: c.ended_at.getTime(),
    agentKey: c.agent_key,
    channel: c.channel,
  })
}
