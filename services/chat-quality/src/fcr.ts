/*
 * First-contact resolution (README of this service: First-contact resolution). Pure: the
 * outcomes depend only on the set of conversations and the time of asking, never on the order
 * they arrived in, so a late repeat contact (a backfill) moves exactly the outcomes it should.
 */
import { createHash } from 'node:crypto'

/** One conversation as FCR reads it. */
export interface FcrConversation {
  connId: string
  /** `customer_id`, else `customer_phone` (or their keyed hashes); undefined when neither. */
  identity: string | undefined
  /**
   * The conversation's primary trámite; `null` when the classifier found none (a group of its
   * own); undefined while no classification of it has arrived.
   */
  tramite: string | null | undefined
  startedAtMs: number
  endedAtMs: number
}

/** What became of a conversation. */
export type FcrOutcome = 'resolved' | 'repeated' | 'pending' | 'no_identity'

/** The outcome of one conversation. */
export interface FcrVerdict {
  outcome: FcrOutcome
  /** For `repeated`: the first repeat contact. */
  repeatedBy?: string
  /** For `pending`: its own trámite, or a later contact's in its window, is not known yet. */
  awaitingTramite?: true
}

/** The outcome of each conversation, by `connId`. */
export type FcrOutcomes = Map<string, FcrVerdict>

/** Reads a customer's identity: `customer_id`, else `customer_phone`; blank counts as absent. */
export function identityOf(
  customerId: string | null,
  customerPhone: string | null,
): string | undefined {
  for (const value of [customerId, customerPhone]) {
    if (value !== null && value.trim() !== '') return value.trim()
  }
  return undefined
}

/**
 * The identity as the service stores it: a SHA-256 digest of {@link identityOf} (128 bits, hex),
 * so that no customer id or phone number is kept in Redis; undefined when there is none.
 */
export function identityKeyOf(
  customerId: string | null,
  customerPhone: string | null,
): string | undefined {
  const identity = identityOf(customerId, customerPhone)
  if (identity === undefined) return undefined
  // A chat's messages come together and carry the same customer: one digest for the run.
  if (identity !== lastIdentity) {
    lastIdentity = identity
    lastKey = createHash('sha256').update(identity).digest('hex').slice(0, 32)
  }
  return lastKey
}
let lastIdentity: string | undefined
let lastKey = ''

/**
 * A conversation is **repeated** when the same customer opens another conversation about the same
 * primary trámite that starts after it ends and no later than `windowMs` after its end; it is
 * **resolved** when none did and the window has passed (`nowMs > end + window`), else **pending**.
 * A conversation without an identity is **no_identity**. `repeatedBy` names the first repeat.
 *
 * Classifications arrive on their own topic: a conversation whose trámite is not known yet is
 * pending (`awaitingTramite`) and repeats nothing; one that could be repeated by such a contact of
 * the same customer in its window, and has no known repeat, is pending too until it is known.
 */
export function fcrOutcomes(
  conversations: readonly FcrConversation[],
  windowMs: number,
  nowMs: number,
): FcrOutcomes {
  const groups = new Map<string, FcrConversation[]>()
  const unknown = new Map<string, FcrConversation[]>()
  const outcomes: FcrOutcomes = new Map()
  for (const c of conversations) {
    if (c.identity === undefined) {
      outcomes.set(c.connId, { outcome: 'no_identity' })
      continue
    }
    if (c.tramite === undefined) {
      outcomes.set(c.connId, { outcome: 'pending', awaitingTramite: true })
      unknown.set(c.identity, [...(unknown.get(c.identity) ?? []), c])
      continue
    }
    const key = JSON.stringify([c.identity, c.tramite])
    const group = groups.get(key) ?? []
    group.push(c)
    groups.set(key, group)
  }
  const within = (c: FcrConversation, other: FcrConversation): boolean =>
    other !== c && other.startedAtMs > c.endedAtMs && other.startedAtMs <= c.endedAtMs + windowMs
  for (const group of groups.values()) {
    // By start (then conn_id, so that equal starts are ordered the same every time).
    group.sort((a, b) => a.startedAtMs - b.startedAtMs || (a.connId < b.connId ? -1 : 1))
    for (const c of group) {
      const repeat = group.find((other) => within(c, other))
      if (repeat !== undefined) {
        outcomes.set(c.connId, { outcome: 'repeated', repeatedBy: repeat.connId })
      } else if ((unknown.get(c.identity!) ?? []).some((other) => within(c, other))) {
        outcomes.set(c.connId, { outcome: 'pending', awaitingTramite: true })
      } else {
        outcomes.set(c.connId, { outcome: nowMs > c.endedAtMs + windowMs ? 'resolved' : 'pending' })
      }
    }
  }
  return outcomes
}

/**
 * Counts of outcomes, and the FCR rate: resolved / (resolved + repeated), null when both are 0.
 * `awaiting_tramite` counts the pending ones that wait for a classification.
 */
export interface FcrFigures {
  conversations: number
  resolved: number
  repeated: number
  pending: number
  no_identity: number
  awaiting_tramite: number
  rate: number | null
}

/** Sums outcomes into figures. */
export function fcrFigures(verdicts: Iterable<FcrVerdict>): FcrFigures {
  const figures: FcrFigures = {
    conversations: 0,
    resolved: 0,
    repeated: 0,
    pending: 0,
    no_identity: 0,
    awaiting_tramite: 0,
    rate: null,
  }
  for (const verdict of verdicts) {
    figures.conversations += 1
    figures[verdict.outcome] += 1
    if (verdict.awaitingTramite) figures.awaiting_tramite += 1
  }
  const decided = figures.resolved + figures.repeated
  figures.rate = decided === 0 ? null : figures.resolved / decided
  return figures
}

/** What the service stores of a conversation for FCR, once its quality record is written. */
export interface FcrEntry {
  /** {@link identityKeyOf} of the conversation; undefined when it has none. */
  identity: string | undefined
  startedAtMs: number
  endedAtMs: number
  agentKey: string
  channel: string
}

/** The stored form of an entry (a JSON array). */
export const encodeFcrEntry = (e: FcrEntry): string =>
  JSON.stringify([e.identity ?? '', e.startedAtMs, e.endedAtMs, e.agentKey, e.channel])

/** Reads an entry back; undefined for anything else. */
export function parseFcrEntry(text: string): FcrEntry | undefined {
  try {
    const [identity, startedAtMs, endedAtMs, agentKey, channel] = JSON.parse(text) as unknown[]
    if (
      typeof identity !== 'string' ||
      typeof startedAtMs !== 'number' ||
      typeof endedAtMs !== 'number' ||
      typeof agentKey !== 'string' ||
      typeof channel !== 'string'
    )
      return undefined
    return {
      identity: identity === '' ? undefined : identity,
      startedAtMs,
      endedAtMs,
      agentKey,
      channel,
    }
  } catch {
    return undefined
  }
}
