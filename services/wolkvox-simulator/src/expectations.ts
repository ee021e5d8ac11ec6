/*
 * What the quality figures of each chat must be, known by construction: from the roles and times
 * the simulator planned and the protocol steps it meant its agent to take or skip, never from the
 * product's code (nor from parsing the served JSON). Tests use these as an independent oracle.
 */
import type { Tramite } from './catalog.js'
import type { IntendedTramite, UnnamedReason } from './tramite-intent.js'

/** Who the simulator meant to write a message. */
export type PlannedRole = 'customer' | 'agent' | 'bot'

/** Whether each protocol check passes, from what the agent was meant to write. */
export interface ExpectedChecks {
  saludo: boolean
  identificacion: boolean
  'ofrece-ayuda': boolean
  despedida: boolean
  'no-expresiones-prohibidas': boolean
}

/** Messages per sender, as `ChatMessage.sender` counts them. */
export interface ExpectedSenderCounts {
  customer: number
  agent: number
  bot: number
  other: number
}

/** The planned return of an earlier chat's customer. */
export interface ReturnOf {
  /** The earlier chat. */
  conn_id: string
  /** From the earlier chat's last message to this chat's first (always positive). */
  lag_ms: number
}

/**
 * One chat's expected figures (services/chat-quality/README.md, Definitions), whole chat whatever
 * part of it a window returned. Times in epoch ms; durations in ms (whole seconds × 1000).
 */
export interface ChatExpectation {
  conn_id: string
  agent_name: string
  /** The trámite the chat was written about (an id of `catalog.tramites`). */
  tramite: Tramite
  /**
   * The trámites its customer's messages name, by the hand labels of every customer line
   * (tramite-intent.ts): `tramite` first when named, then any other; each with the conversation
   * indexes of the messages naming it. Empty when none does: what a classifier is meant to find.
   */
  intended_tramites: IntendedTramite[]
  /** Why `intended_tramites` is empty (the customer never names the trámite), else null. */
  unnamed: UnnamedReason | null
  /** Its final `customer_id` (also `customer_phone`'s value where the chat has that). */
  customer_id: string
  /** First and last message. */
  started_at_ms: number
  ended_at_ms: number
  /** The earlier chat this one is a return of, or null. */
  return_of: ReturnOf | null
  first_response_ms: number | null
  handoff_ms: number | null
  response_gaps_ms: number[]
  longest_wait_ms: number | null
  last_turn_unanswered: boolean
  duration_ms: number
  messages: ExpectedSenderCounts
  checks: ExpectedChecks
}

/** The timing fields of a {@link ChatExpectation}. */
export type ExpectedTimings = Pick<
  ChatExpectation,
  | 'first_response_ms'
  | 'handoff_ms'
  | 'response_gaps_ms'
  | 'longest_wait_ms'
  | 'last_turn_unanswered'
  | 'duration_ms'
  | 'messages'
>

/**
 * The timings of a planned conversation: `roles[i]` wrote message `i` at UTC second `secs[i]`, in
 * conversation order (planned times never run backwards).
 */
export function plannedTimings(
  roles: readonly PlannedRole[],
  secs: readonly number[],
): ExpectedTimings {
  const messages: ExpectedSenderCounts = { customer: 0, agent: 0, bot: 0, other: 0 }
  const gaps: number[] = []
  let turnStart = -1
  let lastBot = -1
  let firstAgentSeen = false
  let handoff: number | null = null
  for (let i = 0; i < roles.length; i += 1) {
    const role = roles[i] as PlannedRole
    const at = secs[i] as number
    messages[role] += 1
    if (role === 'customer') {
      if (turnStart < 0) turnStart = at
    } else if (role === 'bot') {
      if (!firstAgentSeen) lastBot = at
    } else {
      if (!firstAgentSeen && lastBot >= 0) handoff = (at - lastBot) * 1000
      firstAgentSeen = true
      if (turnStart >= 0) {
        gaps.push((at - turnStart) * 1000)
        turnStart = -1
      }
    }
  }
  // The first turn starts at the first customer message, so the first gap is the first response
  // exactly when some agent message follows that message: when there is a gap at all.
  return {
    first_response_ms: gaps.length > 0 ? (gaps[0] as number) : null,
    handoff_ms: handoff,
    response_gaps_ms: gaps,
    longest_wait_ms: gaps.length > 0 ? Math.max(...gaps) : null,
    last_turn_unanswered: turnStart >= 0,
    duration_ms: ((secs[secs.length - 1] ?? 0) - (secs[0] ?? 0)) * 1000,
    messages,
  }
}

/** A first-contact resolution outcome (services/chat-quality/README.md). */
export type ExpectedFcrOutcome = 'resolved' | 'repeated' | 'pending' | 'no_identity'

/** Each chat's FCR outcome by `conn_id`; `repeatedBy` names the return that repeated it. */
export type ExpectedFcr = Map<string, { outcome: ExpectedFcrOutcome; repeatedBy?: string }>

/**
 * Each chat's first-contact resolution outcome **by intent**: `repeated` when its planned return
 * about the same trámite is among `expectations` and starts within `windowMs` after its end;
 * otherwise `resolved` when `nowMs` is past its end plus `windowMs`, else `pending`;
 * `no_identity` when its `customer_id` is blank. A chat is returned to at most once and a return
 * is never itself returned to, so nothing else can repeat a chat (barring two customers drawing
 * the same random id).
 */
export function expectedFcr(
  expectations: readonly ChatExpectation[],
  { windowMs, nowMs }: { windowMs: number; nowMs: number },
): ExpectedFcr {
  const returnOf = new Map<string, ChatExpectation>()
  for (const e of expectations) if (e.return_of !== null) returnOf.set(e.return_of.conn_id, e)
  const out: ExpectedFcr = new Map()
  for (const e of expectations) {
    if (e.customer_id.trim() === '') {
      out.set(e.conn_id, { outcome: 'no_identity' })
      continue
    }
    const back = returnOf.get(e.conn_id)
    if (
      back !== undefined &&
      back.tramite === e.tramite &&
      back.return_of !== null &&
      back.return_of.lag_ms > 0 &&
      back.return_of.lag_ms <= windowMs
    ) {
      out.set(e.conn_id, { outcome: 'repeated', repeatedBy: back.conn_id })
    } else {
      out.set(e.conn_id, {
        outcome: nowMs > e.ended_at_ms + windowMs ? 'resolved' : 'pending',
      })
    }
  }
  return out
}
