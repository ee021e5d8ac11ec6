/*
 * What each served message must become as a `ChatMessage` event, known by construction: from
 * what the simulator meant to write (who wrote it, the instant, the feeling it intended, where it
 * sits in the chat, the chat's agent, customer and channel), never from the product's mapping code
 * (packages/events) nor from parsing the served JSON. Tests compare the topic with these.
 */
import type { feelings } from './catalog.js'
import type { PlannedRole } from './expectations.js'
import { formatDate, toUtcSec } from './wall-clock.js'

/** One of the five feelings of `catalog.feelings`, as the simulator intends it (lower case). */
export type IntendedFeeling = (typeof feelings)[number]

/** How a chat writes its feelings: the five ways real tenants' data come. */
export type FeelingMode = 'normal' | 'capitalized' | 'empty' | 'missing' | 'phone'

/** What the simulator meant one message to be, before rendering it as JSON. */
export interface MessageIntent {
  role: PlannedRole
  /** A customer message addressed to the bot (its `to_name` is the bot). */
  toBot: boolean
  text: string
  /** The feeling it was meant to carry (written as the chat's {@link FeelingMode} says). */
  feeling: IntendedFeeling
  image: boolean
  /** When it was sent: UTC seconds, and the local seconds its `date` shows. */
  utcSec: number
  localSec: number
}

/** What the simulator meant one chat to be: its people, its channel, how it writes feelings. */
export interface ChatIntent {
  connId: string
  agentName: string
  customerName: string
  customerId: string
  channel: string
  /** The bot's display name in this chat, and the `from` it writes with (`AGENT` or `BOT`). */
  bot: string
  botFrom: string
  /** Chat-level fields beyond the documented ones, as written. */
  chatExtra: Readonly<Record<string, string>>
  feelingMode: FeelingMode
  /** Its data comes late; then, whether its `customer_id` does too. */
  late: boolean
  lateCustomerId: boolean
  /** UTC seconds of its closing. */
  closeSec: number
  /** In conversation order, the duplicate included. */
  messages: readonly MessageIntent[]
}

export type ExpectedSender = 'customer' | 'agent' | 'bot' | 'other'
export type ExpectedSentiment =
  'very_negative' | 'negative' | 'neutral' | 'positive' | 'very_positive' | 'unknown'

/** The values a late message carries when it is read before Wolkvox filled them. */
export interface PendingValues {
  customer_id: string
  feeling: string | null
  customer_phone: string | null
  sentiment: ExpectedSentiment
}

/**
 * The `ChatMessage` one served message must become (schemas/chat-message.v2.avsc), every field the
 * simulator can know: all but `event_id`/`revision` (hashes of these values and the poller's
 * `server`), `server`, `report`, and the lineage a poll adds (`polled_at`, `window_*`).
 */
export interface ExpectedEvent {
  conn_id: string
  agent_name: string
  customer_name: string
  channel: string
  from: string
  from_name: string
  to_name: string
  date: string
  message: string
  customer_id: string
  feeling: string | null
  customer_phone: string | null
  /** `date`'s instant (epoch ms): when the message was sent (the earlier one of a repeated hour). */
  sent_at_ms: number
  /** Index in the chat's conversation and its length, in the truth's window (the whole chat for a
   * closing-time selection). */
  position: number
  conversation_length: number
  /** Index in the whole chat and the chat's length, whatever the window. */
  chat_position: number
  chat_length: number
  channel_normalized: string
  sender: ExpectedSender
  sentiment: ExpectedSentiment
  extra: Record<string, string>
  /** 0-based count of earlier messages of the chat sent in the same second by the same author
   * with the same text: 1 for the second of a planned duplicate, else 0. */
  occurrence: number
  /** When the chat closed (epoch ms): a closing-time window selects it then. */
  closed_at_ms: number
  /** Late messages only: the values a read before the late data is filled gets. */
  pending?: PendingValues
}

const sentimentOfFeeling: Readonly<Record<IntendedFeeling, ExpectedSentiment>> = {
  'very negative': 'very_negative',
  negative: 'negative',
  neutral: 'neutral',
  positive: 'positive',
  'very positive': 'very_positive',
}

/** `Very Positive`: how a `capitalized` chat writes a feeling. */
export const titleCase = (text: string): string => text.replace(/\b\p{L}/gu, (c) => c.toUpperCase())

/** The `feeling` value a chat writes for an intended feeling, or null when it writes none. */
export function writtenFeeling(mode: FeelingMode, feeling: IntendedFeeling): string | null {
  switch (mode) {
    case 'normal':
      return feeling
    case 'capitalized':
      return titleCase(feeling)
    case 'empty':
      return ''
    case 'missing':
    case 'phone':
      return null
  }
}

/**
 * The events of `served` (indexes into the chat's messages, in order, as one response holds
 * them) of a chat written as `intent` says, in the operation's zone `timeZone`.
 */
export function expectedEvents(
  intent: ChatIntent,
  served: readonly number[],
  timeZone: string,
): ExpectedEvent[] {
  const extraOfChat = Object.fromEntries(
    Object.entries(intent.chatExtra).map(([key, value]) => [`chat.${key}`, value]),
  )
  // The catalog spells channels in several cases, never with spaces around: lower case is the
  // channel it means.
  const channelNormalized = intent.channel.toLowerCase()
  const phone = intent.feelingMode === 'phone'
  const knownFeeling = intent.feelingMode === 'normal' || intent.feelingMode === 'capitalized'
  const seen = new Map<string, number>()
  const occurrences = intent.messages.map((m) => {
    const key = JSON.stringify([m.localSec, m.role, m.text])
    const n = seen.get(key) ?? 0
    seen.set(key, n + 1)
    return n
  })
  return served.map((index, position) => {
    const m = intent.messages[index] as MessageIntent
    const fromName =
      m.role === 'customer'
        ? intent.customerName
        : m.role === 'agent'
          ? intent.agentName
          : intent.bot
    const toName =
      m.role === 'customer' ? (m.toBot ? intent.bot : intent.agentName) : intent.customerName
    // Where the local time repeats (DST fall-back), the date names the earlier instant too.
    const sentAtSec = Math.min(m.utcSec, toUtcSec(m.localSec, timeZone))
    const event: ExpectedEvent = {
      conn_id: intent.connId,
      agent_name: intent.agentName,
      customer_name: intent.customerName,
      channel: intent.channel,
      from: m.role === 'customer' ? 'CUSTOMER' : m.role === 'agent' ? 'AGENT' : intent.botFrom,
      from_name: fromName,
      to_name: toName,
      date: formatDate(m.localSec),
      message: m.text,
      customer_id: intent.customerId,
      feeling: writtenFeeling(intent.feelingMode, m.feeling),
      customer_phone: phone ? intent.customerId : null,
      sent_at_ms: sentAtSec * 1000,
      position,
      conversation_length: served.length,
      chat_position: index,
      chat_length: intent.messages.length,
      channel_normalized: channelNormalized,
      sender: m.role,
      sentiment: knownFeeling ? sentimentOfFeeling[m.feeling] : 'unknown',
      extra: m.image ? { ...extraOfChat, message_type: 'image' } : { ...extraOfChat },
      occurrence: occurrences[index] as number,
      closed_at_ms: intent.closeSec * 1000,
    }
    if (intent.late) {
      // Before the late values are filled, the same keys are there, empty.
      const pendingId = intent.lateCustomerId ? '' : intent.customerId
      const pending: PendingValues = {
        customer_id: pendingId,
        feeling: knownFeeling ? '' : event.feeling,
        customer_phone: phone ? pendingId : null,
        sentiment: 'unknown',
      }
      if (pending.customer_id !== event.customer_id || pending.feeling !== event.feeling) {
        event.pending = pending
      }
    }
    return event
  })
}
