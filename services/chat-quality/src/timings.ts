/*
 * A conversation's response timings (README of this service: Definitions). Pure: the same
 * messages give the same figures whatever order they arrive in, so a service can recompute them
 * from stored messages after any replay.
 */
import type { Sender } from '@wolkvox-chat-stream/keyword-rules'

/** One message as the timings read it. */
export interface TimedMessage {
  /** `position` in the chat's conversation array: the order of the conversation. */
  position: number
  /** `sent_at` in epoch milliseconds. */
  sentAtMs: number
  sender: Sender
}

/** The figures of one conversation. Durations in milliseconds; `null` where there is none. */
export interface ConversationTimings {
  /**
   * From the first customer message to the first agent message after it. A bot message is not a
   * response. `null` when no agent answered.
   */
  firstResponseMs: number | null
  /**
   * From the last bot message before the first agent message to that agent message: how long the
   * handoff from the bot took. `null` when no bot spoke before the first agent message.
   */
  handoffMs: number | null
  /**
   * One gap per customer turn an agent answered: from the turn's first customer message (the
   * first one after the previous agent message) to the next agent message. The first gap is the
   * first response.
   */
  responseGapsMs: number[]
  /** The longest of `responseGapsMs`; `null` when there is none. */
  longestWaitMs: number | null
  /** True when no agent message followed the customer's last turn (the customer wrote last). */
  lastTurnUnanswered: boolean
  /** From the first message to the last. */
  durationMs: number
  /** Messages per sender. */
  messages: Record<Sender, number>
}

/**
 * Computes the timings of one conversation from its messages, in any order: they are read in
 * `position` order (then `sent_at`, for a repeated position). A negative gap (an agent message
 * stamped before the customer message it follows, as a clock can do) counts as 0.
 * @throws Error when `messages` is empty (a conversation has at least one message).
 */
export function conversationTimings(messages: readonly TimedMessage[]): ConversationTimings {
  if (messages.length === 0) throw new Error('a conversation has at least one message')
  const ordered = [...messages].sort((a, b) => a.position - b.position || a.sentAtMs - b.sentAtMs)
  const counts: Record<Sender, number> = { customer: 0, agent: 0, bot: 0, other: 0 }
  const gaps: number[] = []
  let waitingSinceMs: number | undefined
  let lastBotBeforeAgentMs: number | undefined
  let handoffMs: number | null = null
  let agentSeen = false
  let first = Infinity
  let last = -Infinity

  for (const m of ordered) {
    counts[m.sender] += 1
    first = Math.min(first, m.sentAtMs)
    last = Math.max(last, m.sentAtMs)
    switch (m.sender) {
      case 'customer':
        waitingSinceMs ??= m.sentAtMs
        break
      case 'bot':
        if (!agentSeen) lastBotBeforeAgentMs = m.sentAtMs
        break
      case 'agent':
        if (!agentSeen && lastBotBeforeAgentMs !== undefined)
          handoffMs = Math.max(0, m.sentAtMs - lastBotBeforeAgentMs)
        agentSeen = true
        if (waitingSinceMs !== undefined) {
          gaps.push(Math.max(0, m.sentAtMs - waitingSinceMs))
          waitingSinceMs = undefined
        }
        break
      default:
        break
    }
  }

  return {
    // The first turn starts at the first customer message and ends at the first agent message
    // after it: its gap is the first response.
    firstResponseMs: gaps[0] ?? null,
    handoffMs,
    responseGapsMs: gaps,
    longestWaitMs: gaps.length === 0 ? null : Math.max(...gaps),
    lastTurnUnanswered: waitingSinceMs !== undefined,
    durationMs: last - first,
    messages: counts,
  }
}

/** The standards a conversation is held to (`QUALITY_*_TARGET`). */
export interface QualityStandards {
  /** The first response must come within this. */
  firstResponseTargetMs: number
  /** Every answered customer turn must be answered within this. */
  responseGapTargetMs: number
}

/** Whether a conversation meets each standard; `null` where the standard does not apply. */
export interface StandardsMet {
  /** `null` when the customer never wrote. */
  firstResponse: boolean | null
  /**
   * `null` when the customer never wrote; false when no agent answered at all. A last turn left
   * unanswered (a customer's closing "gracias") is not a gap: `lastTurnUnanswered` reports it.
   */
  responseGaps: boolean | null
}

/** Holds a conversation's timings to the standards. */
export function standardsMet(
  timings: ConversationTimings,
  standards: QualityStandards,
): StandardsMet {
  if (timings.messages.customer === 0) return { firstResponse: null, responseGaps: null }
  return {
    firstResponse:
      timings.firstResponseMs !== null &&
      timings.firstResponseMs <= standards.firstResponseTargetMs,
    responseGaps:
      timings.responseGapsMs.length > 0 &&
      timings.responseGapsMs.every((gap) => gap <= standards.responseGapTargetMs),
  }
}
