/*
 * What the classifier keeps per conversation and how a classification is made of it. Each message
 * is matched once, when it is handled, with the rules in force then; its matches (not its text)
 * are kept in the conversation's hash, and the conversation's classification is merged from them
 * exactly as the engine's classifyConversation would classify the texts. README: Semantics.
 */
import { createHash } from 'node:crypto'
import type { ChatMessage, TramiteClassification } from '@wolkvox-chat-stream/events'
import { parseMember } from '@wolkvox-chat-stream/service-kit'
import { localDate } from '@wolkvox-chat-stream/zoned-time'
import {
  classifyMessage,
  mergeMessageMatches,
  type CompiledRules,
  type TermKind,
} from '@wolkvox-chat-stream/keyword-rules'

/** One match as kept: trámite id, kind, term, matched text, start, end, the trámite's priority. */
export type StoredMatch = [string, TermKind, string, string, number, number, number]

/** The matches of one message as kept in its conversation's hash (field `m:<event_id>`). */
export interface StoredMatches {
  /** sent_at (ms) and position: the message's place in its conversation. */
  t: number
  p: number
  x: StoredMatch[]
}

const priorities = new WeakMap<CompiledRules, Map<string, number>>()

/** The matches of a message with `rules`, or undefined when nothing counted. */
export function matchMessage(rules: CompiledRules, event: ChatMessage): StoredMatches | undefined {
  const { explanations } = classifyMessage(rules, event.message, event.sender)
  if (explanations.length === 0) return undefined
  let byId = priorities.get(rules)
  if (byId === undefined) {
    byId = new Map(rules.tramites.map((t) => [t.id, t.priority]))
    priorities.set(rules, byId)
  }
  return {
    t: event.sent_at.getTime(),
    p: event.position,
    x: explanations.map((e) => [
      e.rule,
      e.kind,
      e.term,
      e.matchedText,
      e.start,
      e.end,
      byId.get(e.rule) ?? 0,
    ]),
  }
}

export { memberOf, parseMember } from '@wolkvox-chat-stream/service-kit'

/** What was last emitted (and counted) for a conversation. */
export interface Emitted {
  /** Fingerprint of the content (everything but the rules version and the time). */
  fingerprint: string
  classifiedAtMs: number
  /** The rules version and the count field it is counted under. */
  version: string
  countField: string
}

/** A conversation's state, as read from its hash. */
export interface ConversationState {
  server: string
  connId: string
  startedAtMs: number
  channel: string
  complete: boolean
  /** The rules version in force when a message of it was last handled. */
  version: string
  /** Bumped by every change of its messages; the emitter records only what it read. */
  changes: string
  /** The latest publish time (record timestamp, ms) of its messages. */
  lastPublishMs: number
  messages: { eventId: string; matches: StoredMatches }[]
  emitted?: Emitted
}

/** Reads a conversation hash; undefined when it holds no conversation. */
export function parseConversation(
  member: string,
  hash: Readonly<Record<string, string>>,
): ConversationState | undefined {
  if (hash.first === undefined) return undefined
  const messages: ConversationState['messages'] = []
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('m:'))
      messages.push({ eventId: field.slice(2), matches: JSON.parse(value) as StoredMatches })
  }
  messages.sort(
    (a, b) =>
      a.matches.t - b.matches.t ||
      a.matches.p - b.matches.p ||
      (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
  )
  const { server, connId } = parseMember(member)
  return {
    server,
    connId,
    startedAtMs: Number(hash.first),
    channel: hash.ch ?? '',
    complete: hash.done === '1',
    version: hash.v ?? '',
    changes: hash.n ?? '',
    lastPublishMs: Number(hash.pub ?? 0),
    messages,
    ...(hash.eh === undefined
      ? {}
      : {
          emitted: {
            fingerprint: hash.eh,
            classifiedAtMs: Number(hash.eat),
            version: hash.cv ?? '',
            countField: hash.cf ?? '',
          },
        }),
  }
}

/** A conversation's classification: the record's fields but the time it was computed. */
export type Classified = Omit<TramiteClassification, 'classified_at' | 'started_at'> & {
  started_at: number
}

/** Merges the matches of a conversation's messages (in conversation order). */
export function classify(state: ConversationState): Classified {
  const info = new Map<string, number>()
  for (const { matches } of state.messages)
    for (const m of matches.x) if (!info.has(m[0])) info.set(m[0], m[6])
  const merged = mergeMessageMatches(
    state.version,
    state.messages.map(({ matches }) => ({
      explanations: matches.x.map(([rule, kind, term, matchedText, start, end]) => ({
        rule,
        kind,
        term,
        matchedText,
        start,
        end,
      })),
    })),
    (id) => ({ label: id, priority: info.get(id) ?? 0 }),
  )
  return {
    server: state.server,
    conn_id: state.connId,
    channel: state.channel,
    started_at: state.startedAtMs,
    primary_tramite: merged.primary,
    labels: merged.labels.map((l) => ({ tramite: l.id, score: l.score })),
    explanations: merged.explanations.map((e) => ({
      tramite: e.rule,
      term: e.term,
      kind: e.kind,
      event_id: state.messages[e.messageIndex!]!.eventId,
      matched_text: e.matchedText,
      start: e.start,
      end: e.end,
    })),
    rule_set_version: state.version,
    complete: state.complete,
  }
}

/** Fingerprint of a classification's content: everything but its rules version. */
export function fingerprint(c: Classified): string {
  const { rule_set_version: _version, ...content } = c
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 24)
}

/** The field a conversation is counted under in its rules version's counts hash. */
export const countField = (c: Classified, zone: string): string =>
  JSON.stringify([localDate(c.started_at, zone), c.channel, c.primary_tramite])

/** Reads a count field back. */
export function parseCountField(
  field: string,
): { day: string; channel: string; tramite: string | null } | undefined {
  try {
    const [day, channel, tramite] = JSON.parse(field) as [unknown, unknown, unknown]
    if (typeof day !== 'string' || typeof channel !== 'string') return undefined
    if (tramite !== null && typeof tramite !== 'string') return undefined
    return { day, channel, tramite }
  } catch {
    return undefined
  }
}

/** The record of a classification. */
export const recordOf = (c: Classified, classifiedAtMs: number): TramiteClassification => ({
  ...c,
  started_at: new Date(c.started_at),
  classified_at: new Date(classifiedAtMs),
})
