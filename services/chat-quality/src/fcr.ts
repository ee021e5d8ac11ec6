/*
 * First-contact resolution (README of this service: First-contact resolution). Pure: the
 * outcomes depend only on the set of conversations and the time of asking, never on the order
 * they arrived in, so a late repeat contact (a backfill) moves exactly the outcomes it should.
 */

/** One conversation as FCR reads it. */
export interface FcrConversation {
  connId: string
  /** `customer_id`, else `customer_phone` (or their keyed hashes); undefined when neither. */
  identity: string | undefined
  /** The conversation's primary trámite; `null` when unclassified (a group of its own). */
  tramite: string | null
  startedAtMs: number
  endedAtMs: number
}

/** What became of a conversation. */
export type FcrOutcome = 'resolved' | 'repeated' | 'pending' | 'no_identity'

/** The outcome of each conversation, by `connId`. */
export type FcrOutcomes = Map<string, { outcome: FcrOutcome; repeatedBy?: string }>

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
 * A conversation is **repeated** when the same customer opens another conversation about the same
 * primary trámite that starts after it ends and no later than `windowMs` after its end; it is
 * **resolved** when none did and the window has passed (`nowMs > end + window`), else **pending**.
 * A conversation without an identity is **no_identity**. `repeatedBy` names the first repeat.
 */
export function fcrOutcomes(
  conversations: readonly FcrConversation[],
  windowMs: number,
  nowMs: number,
): FcrOutcomes {
  const groups = new Map<string, FcrConversation[]>()
  const outcomes: FcrOutcomes = new Map()
  for (const c of conversations) {
    if (c.identity === undefined) {
      outcomes.set(c.connId, { outcome: 'no_identity' })
      continue
    }
    const key = JSON.stringify([c.identity, c.tramite])
    const group = groups.get(key) ?? []
    group.push(c)
    groups.set(key, group)
  }
  for (const group of groups.values()) {
    // By start (then conn_id, so that equal starts are ordered the same every time).
    group.sort((a, b) => a.startedAtMs - b.startedAtMs || (a.connId < b.connId ? -1 : 1))
    for (const c of group) {
      const repeat = group.find(
        (other) =>
          other !== c &&
          other.startedAtMs > c.endedAtMs &&
          other.startedAtMs <= c.endedAtMs + windowMs,
      )
      if (repeat !== undefined)
        outcomes.set(c.connId, { outcome: 'repeated', repeatedBy: repeat.connId })
      else
        outcomes.set(c.connId, { outcome: nowMs > c.endedAtMs + windowMs ? 'resolved' : 'pending' })
    }
  }
  return outcomes
}

/** Counts of outcomes, and the FCR rate: resolved / (resolved + repeated), null when both are 0. */
export interface FcrFigures {
  resolved: number
  repeated: number
  pending: number
  no_identity: number
  rate: number | null
}

/** Sums outcomes into figures. */
export function fcrFigures(outcomes: Iterable<FcrOutcome>): FcrFigures {
  const figures: FcrFigures = { resolved: 0, repeated: 0, pending: 0, no_identity: 0, rate: null }
  for (const outcome of outcomes) figures[outcome] += 1
  const decided = figures.resolved + figures.repeated
  figures.rate = decided === 0 ? null : figures.resolved / decided
  return figures
}
