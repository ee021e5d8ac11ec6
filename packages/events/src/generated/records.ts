// Generated from schemas/*.avsc by `npm run generate -w @wolkvox-chat-stream/events`. Do not edit:
// a unit test fails when this file and the schemas differ.
import type { SchemaVersion } from '../codec.js'

/** Size of an aggregate window. (`com.wolkvoxchatstream.Granularity`, schemas/agent-sentiment.v1.avsc) */
export type GranularityV1 = 'hour' | 'day' | 'unknown'

/** Messages per sentiment value of ChatMessage. (`com.wolkvoxchatstream.SentimentCounts`, schemas/agent-sentiment.v1.avsc) */
export interface SentimentCountsV1 {
  /** Messages with sentiment very_negative. */
  very_negative: number
  /** Messages with sentiment negative. */
  negative: number
  /** Messages with sentiment neutral. */
  neutral: number
  /** Messages with sentiment positive. */
  positive: number
  /** Messages with sentiment very_positive. */
  very_positive: number
  /** Messages with sentiment unknown. */
  unknown: number
}

/** Messages per sender value of ChatMessage. (`com.wolkvoxchatstream.SenderCounts`, schemas/agent-sentiment.v1.avsc) */
export interface SenderCountsV1 {
  /** Messages written by the customer. */
  customer: number
  /** Messages written by the agent. */
  agent: number
  /** Messages written by a bot. */
  bot: number
  /** Messages of any other sender. */
  other: number
}

/** Sentiment of one agent's chats in one hour or day window. Topic wolkvox.agent.sentiment.v1 (compacted), key server|agent_key|granularity|window_start (window_start as an ISO 8601 UTC instant): the latest record per key is the window's current state; a late event re-emits its windows. (`com.wolkvoxchatstream.AgentSentiment`, schemas/agent-sentiment.v1.avsc) */
export interface AgentSentimentV1 {
  /** The Wolkvox operation's server code, exact ("0010"). */
  server: string
  /** The agent's identity: agent_name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased. */
  agent_key: string
  /** The first display form of agent_name seen for this agent_key. */
  agent_name: string
  /** hour or day. unknown is never written: a reader gets it for a granularity added by a later version. */
  granularity: GranularityV1
  /** First instant of the window, inclusive. Days start at local midnight in the operation's time zone. */
  window_start: Date
  /** First instant after the window (exclusive). */
  window_end: Date
  /** Messages of the window whose sent_at falls in it, per sentiment. */
  messages_by_sentiment: SentimentCountsV1
  /** Messages of the window whose sent_at falls in it, per sender. */
  messages_by_sender: SenderCountsV1
  /** Chats whose last message falls in the window. */
  conversations: number
  /** Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over the messages with a known sentiment; null when there is none. */
  mean_score: null | number
  /** Complete chats (a message with position = conversation_length - 1 was seen) whose last customer message is negative or very_negative, counted in the window of their last message. */
  conversations_ending_negative: number
  /** When this state of the window was computed. */
  updated_at: Date
}

/** AgentSentimentV1 as schemas/agent-sentiment.v1.avsc defines it. */
export const agentSentimentV1: SchemaVersion = {
  version: 1,
  schema: {
    type: 'record',
    name: 'AgentSentiment',
    namespace: 'com.wolkvoxchatstream',
    doc: "Sentiment of one agent's chats in one hour or day window. Topic wolkvox.agent.sentiment.v1 (compacted), key server|agent_key|granularity|window_start (window_start as an ISO 8601 UTC instant): the latest record per key is the window's current state; a late event re-emits its windows.",
    fields: [
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exact ("0010").',
      },
      {
        name: 'agent_key',
        type: 'string',
        doc: "The agent's identity: agent_name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased.",
      },
      {
        name: 'agent_name',
        type: 'string',
        doc: 'The first display form of agent_name seen for this agent_key.',
      },
      {
        name: 'granularity',
        type: {
          type: 'enum',
          name: 'Granularity',
          doc: 'Size of an aggregate window.',
          symbols: ['hour', 'day', 'unknown'],
          default: 'unknown',
        },
        doc: 'hour or day. unknown is never written: a reader gets it for a granularity added by a later version.',
      },
      {
        name: 'window_start',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "First instant of the window, inclusive. Days start at local midnight in the operation's time zone.",
      },
      {
        name: 'window_end',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'First instant after the window (exclusive).',
      },
      {
        name: 'messages_by_sentiment',
        type: {
          type: 'record',
          name: 'SentimentCounts',
          doc: 'Messages per sentiment value of ChatMessage.',
          fields: [
            { name: 'very_negative', type: 'long', doc: 'Messages with sentiment very_negative.' },
            { name: 'negative', type: 'long', doc: 'Messages with sentiment negative.' },
            { name: 'neutral', type: 'long', doc: 'Messages with sentiment neutral.' },
            { name: 'positive', type: 'long', doc: 'Messages with sentiment positive.' },
            { name: 'very_positive', type: 'long', doc: 'Messages with sentiment very_positive.' },
            { name: 'unknown', type: 'long', doc: 'Messages with sentiment unknown.' },
          ],
        },
        doc: 'Messages of the window whose sent_at falls in it, per sentiment.',
      },
      {
        name: 'messages_by_sender',
        type: {
          type: 'record',
          name: 'SenderCounts',
          doc: 'Messages per sender value of ChatMessage.',
          fields: [
            { name: 'customer', type: 'long', doc: 'Messages written by the customer.' },
            { name: 'agent', type: 'long', doc: 'Messages written by the agent.' },
            { name: 'bot', type: 'long', doc: 'Messages written by a bot.' },
            { name: 'other', type: 'long', doc: 'Messages of any other sender.' },
          ],
        },
        doc: 'Messages of the window whose sent_at falls in it, per sender.',
      },
      { name: 'conversations', type: 'long', doc: 'Chats whose last message falls in the window.' },
      {
        name: 'mean_score',
        type: ['null', 'double'],
        default: null,
        doc: 'Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over the messages with a known sentiment; null when there is none.',
      },
      {
        name: 'conversations_ending_negative',
        type: 'long',
        doc: 'Complete chats (a message with position = conversation_length - 1 was seen) whose last customer message is negative or very_negative, counted in the window of their last message.',
      },
      {
        name: 'updated_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When this state of the window was computed.',
      },
    ],
  },
}

/** Size of an aggregate window. (`com.wolkvoxchatstream.Granularity`, schemas/agent-sentiment.v2.avsc) */
export type GranularityV2 = 'hour' | 'day' | 'unknown'

/** Messages per sentiment value of ChatMessage. (`com.wolkvoxchatstream.SentimentCounts`, schemas/agent-sentiment.v2.avsc) */
export interface SentimentCountsV2 {
  /** Messages with sentiment very_negative. */
  very_negative: number
  /** Messages with sentiment negative. */
  negative: number
  /** Messages with sentiment neutral. */
  neutral: number
  /** Messages with sentiment positive. */
  positive: number
  /** Messages with sentiment very_positive. */
  very_positive: number
  /** Messages with sentiment unknown. */
  unknown: number
}

/** Messages per sender value of ChatMessage. (`com.wolkvoxchatstream.SenderCounts`, schemas/agent-sentiment.v2.avsc) */
export interface SenderCountsV2 {
  /** Messages written by the customer. */
  customer: number
  /** Messages written by the agent. */
  agent: number
  /** Messages written by a bot. */
  bot: number
  /** Messages of any other sender. */
  other: number
}

/** Sentiment of one agent's chats in one hour or day window. Topic wolkvox.agent.sentiment.v1 (compacted), key server|agent_key|granularity|window_start (window_start as an ISO 8601 UTC instant): the latest record per key is the window's current state; a late event re-emits its windows. Version 2 adds messages_by_text_sentiment and text_mean_score: figures scored by the project's own Spanish text scorer, kept apart from Wolkvox's feeling. (`com.wolkvoxchatstream.AgentSentiment`, schemas/agent-sentiment.v2.avsc) */
export interface AgentSentimentV2 {
  /** The Wolkvox operation's server code, exact ("0010"). */
  server: string
  /** The agent's identity: agent_name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased. */
  agent_key: string
  /** The first display form of agent_name seen for this agent_key. */
  agent_name: string
  /** hour or day. unknown is never written: a reader gets it for a granularity added by a later version. */
  granularity: GranularityV2
  /** First instant of the window, inclusive. Days start at local midnight in the operation's time zone. */
  window_start: Date
  /** First instant after the window (exclusive). */
  window_end: Date
  /** Messages of the window whose sent_at falls in it, per sentiment. */
  messages_by_sentiment: SentimentCountsV2
  /** Messages of the window whose sent_at falls in it, per sender. */
  messages_by_sender: SenderCountsV2
  /** Chats whose last message falls in the window. */
  conversations: number
  /** Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over the messages with a known sentiment; null when there is none. */
  mean_score: null | number
  /** Complete chats (a message with position = conversation_length - 1 was seen) whose last customer message is negative or very_negative, counted in the window of their last message. */
  conversations_ending_negative: number
  /** When this state of the window was computed. */
  updated_at: Date
  /** Customer messages of the window that Wolkvox gave no feeling (sentiment unknown: feeling missing or empty) and whose text is not empty after trimming, per sentiment scored by the project's own Spanish text scorer (packages/text-sentiment) from the message text. Never mixed with messages_by_sentiment: each of these messages is also counted there, as unknown. unknown is always 0 here. When a later revision of a message brings a feeling, the message leaves these counts. null only when read from a version 1 record (a writer that did not score text). */
  messages_by_text_sentiment: null | SentimentCountsV2
  /** Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over messages_by_text_sentiment (the scores of the project's own Spanish text scorer, for customer messages without a Wolkvox feeling), never mixed with mean_score; null when there is none, or when read from a version 1 record. */
  text_mean_score: null | number
}

/** AgentSentimentV2 as schemas/agent-sentiment.v2.avsc defines it. */
export const agentSentimentV2: SchemaVersion = {
  version: 2,
  schema: {
    type: 'record',
    name: 'AgentSentiment',
    namespace: 'com.wolkvoxchatstream',
    doc: "Sentiment of one agent's chats in one hour or day window. Topic wolkvox.agent.sentiment.v1 (compacted), key server|agent_key|granularity|window_start (window_start as an ISO 8601 UTC instant): the latest record per key is the window's current state; a late event re-emits its windows. Version 2 adds messages_by_text_sentiment and text_mean_score: figures scored by the project's own Spanish text scorer, kept apart from Wolkvox's feeling.",
    fields: [
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exact ("0010").',
      },
      {
        name: 'agent_key',
        type: 'string',
        doc: "The agent's identity: agent_name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased.",
      },
      {
        name: 'agent_name',
        type: 'string',
        doc: 'The first display form of agent_name seen for this agent_key.',
      },
      {
        name: 'granularity',
        type: {
          type: 'enum',
          name: 'Granularity',
          doc: 'Size of an aggregate window.',
          symbols: ['hour', 'day', 'unknown'],
          default: 'unknown',
        },
        doc: 'hour or day. unknown is never written: a reader gets it for a granularity added by a later version.',
      },
      {
        name: 'window_start',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "First instant of the window, inclusive. Days start at local midnight in the operation's time zone.",
      },
      {
        name: 'window_end',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'First instant after the window (exclusive).',
      },
      {
        name: 'messages_by_sentiment',
        type: {
          type: 'record',
          name: 'SentimentCounts',
          doc: 'Messages per sentiment value of ChatMessage.',
          fields: [
            { name: 'very_negative', type: 'long', doc: 'Messages with sentiment very_negative.' },
            { name: 'negative', type: 'long', doc: 'Messages with sentiment negative.' },
            { name: 'neutral', type: 'long', doc: 'Messages with sentiment neutral.' },
            { name: 'positive', type: 'long', doc: 'Messages with sentiment positive.' },
            { name: 'very_positive', type: 'long', doc: 'Messages with sentiment very_positive.' },
            { name: 'unknown', type: 'long', doc: 'Messages with sentiment unknown.' },
          ],
        },
        doc: 'Messages of the window whose sent_at falls in it, per sentiment.',
      },
      {
        name: 'messages_by_sender',
        type: {
          type: 'record',
          name: 'SenderCounts',
          doc: 'Messages per sender value of ChatMessage.',
          fields: [
            { name: 'customer', type: 'long', doc: 'Messages written by the customer.' },
            { name: 'agent', type: 'long', doc: 'Messages written by the agent.' },
            { name: 'bot', type: 'long', doc: 'Messages written by a bot.' },
            { name: 'other', type: 'long', doc: 'Messages of any other sender.' },
          ],
        },
        doc: 'Messages of the window whose sent_at falls in it, per sender.',
      },
      { name: 'conversations', type: 'long', doc: 'Chats whose last message falls in the window.' },
      {
        name: 'mean_score',
        type: ['null', 'double'],
        default: null,
        doc: 'Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over the messages with a known sentiment; null when there is none.',
      },
      {
        name: 'conversations_ending_negative',
        type: 'long',
        doc: 'Complete chats (a message with position = conversation_length - 1 was seen) whose last customer message is negative or very_negative, counted in the window of their last message.',
      },
      {
        name: 'updated_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When this state of the window was computed.',
      },
      {
        name: 'messages_by_text_sentiment',
        type: ['null', 'SentimentCounts'],
        default: null,
        doc: "Customer messages of the window that Wolkvox gave no feeling (sentiment unknown: feeling missing or empty) and whose text is not empty after trimming, per sentiment scored by the project's own Spanish text scorer (packages/text-sentiment) from the message text. Never mixed with messages_by_sentiment: each of these messages is also counted there, as unknown. unknown is always 0 here. When a later revision of a message brings a feeling, the message leaves these counts. null only when read from a version 1 record (a writer that did not score text).",
      },
      {
        name: 'text_mean_score',
        type: ['null', 'double'],
        default: null,
        doc: "Mean of very_negative = -2, negative = -1, neutral = 0, positive = 1, very_positive = 2 over messages_by_text_sentiment (the scores of the project's own Spanish text scorer, for customer messages without a Wolkvox feeling), never mixed with mean_score; null when there is none, or when read from a version 1 record.",
      },
    ],
  },
}

/** Who wrote a message. (`com.wolkvoxchatstream.Sender`, schemas/chat-message.v1.avsc) */
export type SenderV1 = 'customer' | 'agent' | 'bot' | 'other'

/** Wolkvox's sentiment of a message, normalised. (`com.wolkvoxchatstream.Sentiment`, schemas/chat-message.v1.avsc) */
export type SentimentV1 =
  'very_negative' | 'negative' | 'neutral' | 'positive' | 'very_positive' | 'unknown'

/** One message of a Wolkvox chat (report chat_2), as the poller received it, plus derived fields. Topic wolkvox.chat.message.v1, key conn_id. Delivery is at-least-once: de-duplicate by event_id. Upstream fields keep their upstream names and exact values (no trimming, no case change; a value that was not a JSON string is its JSON text). (`com.wolkvoxchatstream.ChatMessage`, schemas/chat-message.v1.avsc) */
export interface ChatMessageV1 {
  /** Stable identity of the message: the first 32 hex characters of the SHA-256 of the UTF-8 JSON array ["v1", server, report, conn_id, date, from, from_name, message, occurrence] (JSON.stringify, no spaces). The same upstream message always has the same event_id, across re-polls and backfills. */
  event_id: string
  /** The Wolkvox operation's server code, exactly as configured (digits, leading zeros kept: "0010"). */
  server: string
  /** The Reports Manager report the message came from: "chat_2". */
  report: string
  /** Upstream chat id (chat level); also the record key. Joins with the chat_1, chat_8, chat_10 and chat_11 reports. */
  conn_id: string
  /** Upstream agent_name (chat level), exact: may hold double spaces and odd casing. */
  agent_name: string
  /** Upstream customer_name (chat level), exact. Personal data. */
  customer_name: string
  /** Upstream channel of the message, exact (for example "whatsapp", "Facebook", "web"); see channel_normalized. */
  channel: string
  /** Upstream from: normally "CUSTOMER" or "AGENT"; any other value is kept; see sender. */
  from: string
  /** Upstream from_name: the display name of who wrote the message (a customer, an agent or a bot such as "chat bot"). Personal data. */
  from_name: string
  /** Upstream to_name: the display name of the addressee, exact (the bot is spelled "chat bot", "chat_bot" or "chat-bot"). */
  to_name: string
  /** Upstream date, exact: local wall-clock time of the operation, "YYYY-MM-DD HH:MM:SS", no zone; see sent_at. */
  date: string
  /** Upstream message text, exact: may hold emoji, HTML attachment links and inline data:image base64 images (so it can be megabytes long). Personal data. */
  message: string
  /** Upstream customer_id, exact (a phone number, a page-scoped id, an e-mail). Personal data. */
  customer_id: string
  /** Upstream feeling (Wolkvox sentiment, a paid add-on), exact; null when the message had none. See sentiment. */
  feeling: null | string
  /** Upstream customer_phone (sent by some tenants instead of feeling), exact; null when the message had none. Personal data. */
  customer_phone: null | string
  /** The instant of date, read as wall-clock time in the operation's time zone (UTC epoch milliseconds). A repeated local time (DST fall-back) is the earlier instant; a skipped local time (spring-forward) is read with the offset in force before the jump. */
  sent_at: Date
  /** 0-based index of the message in the chat's conversation array, as received. */
  position: number
  /** Length of the chat's conversation array in the response this event came from; the chat is complete as far as this response knows when position = conversation_length - 1. */
  conversation_length: number
  /** channel trimmed and lower-cased ("WhatsApp " -> "whatsapp"); unknown values are kept. */
  channel_normalized: string
  /** bot when from or from_name, trimmed and lower-cased with runs of spaces, _ and - read as one space, is "bot", "chat bot" or "chatbot"; otherwise customer for from CUSTOMER, agent for from AGENT (both trimmed, any case); otherwise other. */
  sender: SenderV1
  /** feeling trimmed, lower-cased, runs of whitespace replaced by _, when that is one of the five known values; otherwise (absent, empty or another value) unknown. */
  sentiment: SentimentV1
  /** Upstream fields this version does not know, as strings (a value that was not a JSON string is its JSON text). Message-level keys as received; chat-level keys prefixed "chat.". On a clash the message-level key wins. */
  extra: Record<string, string>
  /** When the poller received the response holding this message (lineage). */
  polled_at: Date
  /** First instant of the poll window that returned the message, inclusive (lineage). */
  window_start: Date
  /** Last second of the poll window that returned the message, inclusive (lineage). */
  window_end: Date
}

/** ChatMessageV1 as schemas/chat-message.v1.avsc defines it. */
export const chatMessageV1: SchemaVersion = {
  version: 1,
  schema: {
    type: 'record',
    name: 'ChatMessage',
    namespace: 'com.wolkvoxchatstream',
    doc: 'One message of a Wolkvox chat (report chat_2), as the poller received it, plus derived fields. Topic wolkvox.chat.message.v1, key conn_id. Delivery is at-least-once: de-duplicate by event_id. Upstream fields keep their upstream names and exact values (no trimming, no case change; a value that was not a JSON string is its JSON text).',
    fields: [
      {
        name: 'event_id',
        type: 'string',
        doc: 'Stable identity of the message: the first 32 hex characters of the SHA-256 of the UTF-8 JSON array ["v1", server, report, conn_id, date, from, from_name, message, occurrence] (JSON.stringify, no spaces). The same upstream message always has the same event_id, across re-polls and backfills.',
      },
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exactly as configured (digits, leading zeros kept: "0010").',
      },
      {
        name: 'report',
        type: 'string',
        doc: 'The Reports Manager report the message came from: "chat_2".',
      },
      {
        name: 'conn_id',
        type: 'string',
        doc: 'Upstream chat id (chat level); also the record key. Joins with the chat_1, chat_8, chat_10 and chat_11 reports.',
      },
      {
        name: 'agent_name',
        type: 'string',
        doc: 'Upstream agent_name (chat level), exact: may hold double spaces and odd casing.',
      },
      {
        name: 'customer_name',
        type: 'string',
        doc: 'Upstream customer_name (chat level), exact. Personal data.',
      },
      {
        name: 'channel',
        type: 'string',
        doc: 'Upstream channel of the message, exact (for example "whatsapp", "Facebook", "web"); see channel_normalized.',
      },
      {
        name: 'from',
        type: 'string',
        doc: 'Upstream from: normally "CUSTOMER" or "AGENT"; any other value is kept; see sender.',
      },
      {
        name: 'from_name',
        type: 'string',
        doc: 'Upstream from_name: the display name of who wrote the message (a customer, an agent or a bot such as "chat bot"). Personal data.',
      },
      {
        name: 'to_name',
        type: 'string',
        doc: 'Upstream to_name: the display name of the addressee, exact (the bot is spelled "chat bot", "chat_bot" or "chat-bot").',
      },
      {
        name: 'date',
        type: 'string',
        doc: 'Upstream date, exact: local wall-clock time of the operation, "YYYY-MM-DD HH:MM:SS", no zone; see sent_at.',
      },
      {
        name: 'message',
        type: 'string',
        doc: 'Upstream message text, exact: may hold emoji, HTML attachment links and inline data:image base64 images (so it can be megabytes long). Personal data.',
      },
      {
        name: 'customer_id',
        type: 'string',
        doc: 'Upstream customer_id, exact (a phone number, a page-scoped id, an e-mail). Personal data.',
      },
      {
        name: 'feeling',
        type: ['null', 'string'],
        default: null,
        doc: 'Upstream feeling (Wolkvox sentiment, a paid add-on), exact; null when the message had none. See sentiment.',
      },
      {
        name: 'customer_phone',
        type: ['null', 'string'],
        default: null,
        doc: 'Upstream customer_phone (sent by some tenants instead of feeling), exact; null when the message had none. Personal data.',
      },
      {
        name: 'sent_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "The instant of date, read as wall-clock time in the operation's time zone (UTC epoch milliseconds). A repeated local time (DST fall-back) is the earlier instant; a skipped local time (spring-forward) is read with the offset in force before the jump.",
      },
      {
        name: 'position',
        type: 'int',
        doc: "0-based index of the message in the chat's conversation array, as received.",
      },
      {
        name: 'conversation_length',
        type: 'int',
        doc: "Length of the chat's conversation array in the response this event came from; the chat is complete as far as this response knows when position = conversation_length - 1.",
      },
      {
        name: 'channel_normalized',
        type: 'string',
        doc: 'channel trimmed and lower-cased ("WhatsApp " -> "whatsapp"); unknown values are kept.',
      },
      {
        name: 'sender',
        type: {
          type: 'enum',
          name: 'Sender',
          doc: 'Who wrote a message.',
          symbols: ['customer', 'agent', 'bot', 'other'],
          default: 'other',
        },
        doc: 'bot when from or from_name, trimmed and lower-cased with runs of spaces, _ and - read as one space, is "bot", "chat bot" or "chatbot"; otherwise customer for from CUSTOMER, agent for from AGENT (both trimmed, any case); otherwise other.',
      },
      {
        name: 'sentiment',
        type: {
          type: 'enum',
          name: 'Sentiment',
          doc: "Wolkvox's sentiment of a message, normalised.",
          symbols: ['very_negative', 'negative', 'neutral', 'positive', 'very_positive', 'unknown'],
          default: 'unknown',
        },
        doc: 'feeling trimmed, lower-cased, runs of whitespace replaced by _, when that is one of the five known values; otherwise (absent, empty or another value) unknown.',
      },
      {
        name: 'extra',
        type: { type: 'map', values: 'string' },
        default: {},
        doc: 'Upstream fields this version does not know, as strings (a value that was not a JSON string is its JSON text). Message-level keys as received; chat-level keys prefixed "chat.". On a clash the message-level key wins.',
      },
      {
        name: 'polled_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When the poller received the response holding this message (lineage).',
      },
      {
        name: 'window_start',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'First instant of the poll window that returned the message, inclusive (lineage).',
      },
      {
        name: 'window_end',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'Last second of the poll window that returned the message, inclusive (lineage).',
      },
    ],
  },
}

/** Who wrote a message. (`com.wolkvoxchatstream.Sender`, schemas/chat-message.v2.avsc) */
export type SenderV2 = 'customer' | 'agent' | 'bot' | 'other'

/** Wolkvox's sentiment of a message, normalised. (`com.wolkvoxchatstream.Sentiment`, schemas/chat-message.v2.avsc) */
export type SentimentV2 =
  'very_negative' | 'negative' | 'neutral' | 'positive' | 'very_positive' | 'unknown'

/** One message of a Wolkvox chat (report chat_2), as the poller received it, plus derived fields. Topic wolkvox.chat.message.v1, key conn_id. Delivery is at-least-once and a message is published again when Wolkvox fills or corrects it later: keep, per event_id, the record with the latest polled_at (see revision). Upstream fields keep their upstream names and exact values (no trimming, no case change; a value that was not a JSON string is its JSON text). (`com.wolkvoxchatstream.ChatMessage`, schemas/chat-message.v2.avsc) */
export interface ChatMessageV2 {
  /** Stable identity of the message: the first 32 hex characters of the SHA-256 of the UTF-8 JSON array ["v1", server, report, conn_id, date, from, from_name, message, occurrence] (JSON.stringify, no spaces). The same upstream message always has the same event_id, across re-polls and backfills. */
  event_id: string
  /** Revision of the message's upstream values outside its identity: the first 16 hex characters of the SHA-256 of the UTF-8 JSON array ["r1", agent_name, customer_name, channel, to_name, customer_id, feeling, customer_phone, extra as [key, value] pairs sorted by key] (JSON.stringify, no spaces; feeling and customer_phone null when absent). Derived and per-response fields (position, conversation_length, polled_at, window, sent_at, sender, sentiment, channel_normalized) are not in it. When Wolkvox fills or corrects one of those values later (feeling, recognised after the chat is first readable, is the usual one), the message is published again with the same key and event_id and another revision. polled_at orders the revisions of an event_id: the latest revision wins; a record with a revision already seen is a duplicate. "" when the record was written by a v1 writer (ChatMessage v1 has no revision). */
  revision: string
  /** The Wolkvox operation's server code, exactly as configured (digits, leading zeros kept: "0010"). */
  server: string
  /** The Reports Manager report the message came from: "chat_2". */
  report: string
  /** Upstream chat id (chat level); also the record key. Joins with the chat_1, chat_8, chat_10 and chat_11 reports. */
  conn_id: string
  /** Upstream agent_name (chat level), exact: may hold double spaces and odd casing. */
  agent_name: string
  /** Upstream customer_name (chat level), exact. Personal data. */
  customer_name: string
  /** Upstream channel of the message, exact (for example "whatsapp", "Facebook", "web"); see channel_normalized. */
  channel: string
  /** Upstream from: normally "CUSTOMER" or "AGENT"; any other value is kept; see sender. */
  from: string
  /** Upstream from_name: the display name of who wrote the message (a customer, an agent or a bot such as "chat bot"). Personal data. */
  from_name: string
  /** Upstream to_name: the display name of the addressee, exact (the bot is spelled "chat bot", "chat_bot" or "chat-bot"). */
  to_name: string
  /** Upstream date, exact: local wall-clock time of the operation, "YYYY-MM-DD HH:MM:SS", no zone; see sent_at. */
  date: string
  /** Upstream message text, exact: may hold emoji, HTML attachment links and inline data:image base64 images (so it can be megabytes long). Personal data. */
  message: string
  /** Upstream customer_id, exact (a phone number, a page-scoped id, an e-mail). Personal data. */
  customer_id: string
  /** Upstream feeling (Wolkvox sentiment, a paid add-on), exact; null when the message had none. See sentiment. */
  feeling: null | string
  /** Upstream customer_phone (sent by some tenants instead of feeling), exact; null when the message had none. Personal data. */
  customer_phone: null | string
  /** The instant of date, read as wall-clock time in the operation's time zone (UTC epoch milliseconds). A repeated local time (DST fall-back) is the earlier instant; a skipped local time (spring-forward) is read with the offset in force before the jump. */
  sent_at: Date
  /** 0-based index of the message in the chat's conversation array, as received. */
  position: number
  /** Length of the chat's conversation array in the response this event came from; the chat is complete as far as this response knows when position = conversation_length - 1. */
  conversation_length: number
  /** channel trimmed and lower-cased ("WhatsApp " -> "whatsapp"); unknown values are kept. */
  channel_normalized: string
  /** bot when from or from_name, trimmed and lower-cased with runs of spaces, _ and - read as one space, is "bot", "chat bot" or "chatbot"; otherwise customer for from CUSTOMER, agent for from AGENT (both trimmed, any case); otherwise other. */
  sender: SenderV2
  /** feeling trimmed, lower-cased, runs of whitespace replaced by _, when that is one of the five known values; otherwise (absent, empty or another value) unknown. */
  sentiment: SentimentV2
  /** Upstream fields this version does not know, as strings (a value that was not a JSON string is its JSON text). Message-level keys as received; chat-level keys prefixed "chat.". On a clash the message-level key wins. */
  extra: Record<string, string>
  /** When the poller received the response holding this message (lineage). */
  polled_at: Date
  /** First instant of the poll window that returned the message, inclusive (lineage). */
  window_start: Date
  /** Last second of the poll window that returned the message, inclusive (lineage). */
  window_end: Date
}

/** ChatMessageV2 as schemas/chat-message.v2.avsc defines it. */
export const chatMessageV2: SchemaVersion = {
  version: 2,
  schema: {
    type: 'record',
    name: 'ChatMessage',
    namespace: 'com.wolkvoxchatstream',
    doc: 'One message of a Wolkvox chat (report chat_2), as the poller received it, plus derived fields. Topic wolkvox.chat.message.v1, key conn_id. Delivery is at-least-once and a message is published again when Wolkvox fills or corrects it later: keep, per event_id, the record with the latest polled_at (see revision). Upstream fields keep their upstream names and exact values (no trimming, no case change; a value that was not a JSON string is its JSON text).',
    fields: [
      {
        name: 'event_id',
        type: 'string',
        doc: 'Stable identity of the message: the first 32 hex characters of the SHA-256 of the UTF-8 JSON array ["v1", server, report, conn_id, date, from, from_name, message, occurrence] (JSON.stringify, no spaces). The same upstream message always has the same event_id, across re-polls and backfills.',
      },
      {
        name: 'revision',
        type: 'string',
        default: '',
        doc: 'Revision of the message\'s upstream values outside its identity: the first 16 hex characters of the SHA-256 of the UTF-8 JSON array ["r1", agent_name, customer_name, channel, to_name, customer_id, feeling, customer_phone, extra as [key, value] pairs sorted by key] (JSON.stringify, no spaces; feeling and customer_phone null when absent). Derived and per-response fields (position, conversation_length, polled_at, window, sent_at, sender, sentiment, channel_normalized) are not in it. When Wolkvox fills or corrects one of those values later (feeling, recognised after the chat is first readable, is the usual one), the message is published again with the same key and event_id and another revision. polled_at orders the revisions of an event_id: the latest revision wins; a record with a revision already seen is a duplicate. "" when the record was written by a v1 writer (ChatMessage v1 has no revision).',
      },
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exactly as configured (digits, leading zeros kept: "0010").',
      },
      {
        name: 'report',
        type: 'string',
        doc: 'The Reports Manager report the message came from: "chat_2".',
      },
      {
        name: 'conn_id',
        type: 'string',
        doc: 'Upstream chat id (chat level); also the record key. Joins with the chat_1, chat_8, chat_10 and chat_11 reports.',
      },
      {
        name: 'agent_name',
        type: 'string',
        doc: 'Upstream agent_name (chat level), exact: may hold double spaces and odd casing.',
      },
      {
        name: 'customer_name',
        type: 'string',
        doc: 'Upstream customer_name (chat level), exact. Personal data.',
      },
      {
        name: 'channel',
        type: 'string',
        doc: 'Upstream channel of the message, exact (for example "whatsapp", "Facebook", "web"); see channel_normalized.',
      },
      {
        name: 'from',
        type: 'string',
        doc: 'Upstream from: normally "CUSTOMER" or "AGENT"; any other value is kept; see sender.',
      },
      {
        name: 'from_name',
        type: 'string',
        doc: 'Upstream from_name: the display name of who wrote the message (a customer, an agent or a bot such as "chat bot"). Personal data.',
      },
      {
        name: 'to_name',
        type: 'string',
        doc: 'Upstream to_name: the display name of the addressee, exact (the bot is spelled "chat bot", "chat_bot" or "chat-bot").',
      },
      {
        name: 'date',
        type: 'string',
        doc: 'Upstream date, exact: local wall-clock time of the operation, "YYYY-MM-DD HH:MM:SS", no zone; see sent_at.',
      },
      {
        name: 'message',
        type: 'string',
        doc: 'Upstream message text, exact: may hold emoji, HTML attachment links and inline data:image base64 images (so it can be megabytes long). Personal data.',
      },
      {
        name: 'customer_id',
        type: 'string',
        doc: 'Upstream customer_id, exact (a phone number, a page-scoped id, an e-mail). Personal data.',
      },
      {
        name: 'feeling',
        type: ['null', 'string'],
        default: null,
        doc: 'Upstream feeling (Wolkvox sentiment, a paid add-on), exact; null when the message had none. See sentiment.',
      },
      {
        name: 'customer_phone',
        type: ['null', 'string'],
        default: null,
        doc: 'Upstream customer_phone (sent by some tenants instead of feeling), exact; null when the message had none. Personal data.',
      },
      {
        name: 'sent_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "The instant of date, read as wall-clock time in the operation's time zone (UTC epoch milliseconds). A repeated local time (DST fall-back) is the earlier instant; a skipped local time (spring-forward) is read with the offset in force before the jump.",
      },
      {
        name: 'position',
        type: 'int',
        doc: "0-based index of the message in the chat's conversation array, as received.",
      },
      {
        name: 'conversation_length',
        type: 'int',
        doc: "Length of the chat's conversation array in the response this event came from; the chat is complete as far as this response knows when position = conversation_length - 1.",
      },
      {
        name: 'channel_normalized',
        type: 'string',
        doc: 'channel trimmed and lower-cased ("WhatsApp " -> "whatsapp"); unknown values are kept.',
      },
      {
        name: 'sender',
        type: {
          type: 'enum',
          name: 'Sender',
          doc: 'Who wrote a message.',
          symbols: ['customer', 'agent', 'bot', 'other'],
          default: 'other',
        },
        doc: 'bot when from or from_name, trimmed and lower-cased with runs of spaces, _ and - read as one space, is "bot", "chat bot" or "chatbot"; otherwise customer for from CUSTOMER, agent for from AGENT (both trimmed, any case); otherwise other.',
      },
      {
        name: 'sentiment',
        type: {
          type: 'enum',
          name: 'Sentiment',
          doc: "Wolkvox's sentiment of a message, normalised.",
          symbols: ['very_negative', 'negative', 'neutral', 'positive', 'very_positive', 'unknown'],
          default: 'unknown',
        },
        doc: 'feeling trimmed, lower-cased, runs of whitespace replaced by _, when that is one of the five known values; otherwise (absent, empty or another value) unknown.',
      },
      {
        name: 'extra',
        type: { type: 'map', values: 'string' },
        default: {},
        doc: 'Upstream fields this version does not know, as strings (a value that was not a JSON string is its JSON text). Message-level keys as received; chat-level keys prefixed "chat.". On a clash the message-level key wins.',
      },
      {
        name: 'polled_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When the poller received the response holding this message (lineage).',
      },
      {
        name: 'window_start',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'First instant of the poll window that returned the message, inclusive (lineage).',
      },
      {
        name: 'window_end',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'Last second of the poll window that returned the message, inclusive (lineage).',
      },
    ],
  },
}

/** Messages of the chat per sender. (`com.wolkvoxchatstream.QualitySenderCounts`, schemas/chat-quality.v1.avsc) */
export interface QualitySenderCountsV1 {
  /** Messages whose sender is customer. */
  customer: number
  /** Messages whose sender is agent. */
  agent: number
  /** Messages whose sender is bot. */
  bot: number
  /** Messages of any other sender. */
  other: number
}

/** required: passes when a term matches; forbidden (an id starting with no-): passes when none does. (`com.wolkvoxchatstream.QualityCheckKind`, schemas/chat-quality.v1.avsc) */
export type QualityCheckKindV1 = 'required' | 'forbidden'

/** One occurrence of a term of the check in an agent message. (`com.wolkvoxchatstream.QualityExplanation`, schemas/chat-quality.v1.avsc) */
export interface QualityExplanationV1 {
  /** The term as written in the rules file. */
  term: string
  /** How the term counted: phrase, keyword or allOf. */
  kind: string
  /** event_id of the ChatMessage the term was found in. */
  event_id: string
  /** The matched text, exact as in the message. */
  matched_text: string
  /** Offset of the match in the message, in UTF-16 code units, inclusive. */
  start: number
  /** Offset of the end of the match, in UTF-16 code units, exclusive. */
  end: number
}

/** One protocol check of the chat: a rule of the protocol rules file. (`com.wolkvoxchatstream.QualityCheck`, schemas/chat-quality.v1.avsc) */
export interface QualityCheckV1 {
  /** The rule's id ("saludo"). */
  check: string
  /** How the check reads its matches. */
  kind: QualityCheckKindV1
  /** Whether the chat passes the check. */
  passed: boolean
  /** The matches that decided the check, in message order (position), then text order. */
  explanations: QualityExplanationV1[]
}

/** The service quality of one chat: response timings, the operation's standards met, and protocol checks of the agent's messages by keyword rules. Topic wolkvox.chat.quality.v1 (compacted), key server|conn_id: the latest record per key is the chat's current figures. Written when the chat is complete or idle, and again only when later messages or a rules change alter it. Definitions: services/chat-quality/README.md. (`com.wolkvoxchatstream.ChatQuality`, schemas/chat-quality.v1.avsc) */
export interface ChatQualityV1 {
  /** The Wolkvox operation's server code, exact ("0010"). */
  server: string
  /** Upstream chat id, as in ChatMessage.conn_id. */
  conn_id: string
  /** The agent's identity: agent_name of the chat's first message in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased (as AgentSentiment.agent_key). */
  agent_key: string
  /** agent_name of the chat's first message, exact. */
  agent_name: string
  /** channel_normalized of the chat's first message (smallest position). */
  channel: string
  /** The earliest sent_at of the chat's messages; its local day and hour are where the chat is counted. */
  started_at: Date
  /** The latest sent_at of the chat's messages. */
  ended_at: Date
  /** True when a message with position = conversation_length - 1 was seen; false for a chat written after the idle timeout. */
  complete: boolean
  /** From the first customer message to the first agent message after it (a bot message is not a response); null when no agent answered. */
  first_response_ms: null | number
  /** From the last bot message before the first agent message to that agent message; null when no bot spoke before the first agent. */
  handoff_ms: null | number
  /** One gap per customer turn an agent answered, in order: from the turn's first customer message (the first after the previous agent message) to the next agent message. The first is first_response_ms. */
  response_gaps_ms: number[]
  /** The largest of response_gaps_ms; null when there is none. */
  longest_wait_ms: null | number
  /** True when the customer wrote last: no agent message followed the last customer turn. */
  last_turn_unanswered: boolean
  /** From the first message to the last (ended_at - started_at). */
  duration_ms: number
  /** Messages per sender. */
  messages: QualitySenderCountsV1
  /** The first-response standard the chat was held to (QUALITY_FIRST_RESPONSE_TARGET). */
  first_response_target_ms: number
  /** The response-gap standard the chat was held to (QUALITY_RESPONSE_GAP_TARGET). */
  response_gap_target_ms: number
  /** first_response_ms within its target; false when no agent answered; null when the customer never wrote. */
  meets_first_response: null | boolean
  /** Every answered customer turn answered within its target; false when no agent answered at all; null when the customer never wrote. A last turn left unanswered is not a gap (last_turn_unanswered reports it). */
  meets_response_gaps: null | boolean
  /** Every check of the rules file, in the file's order. */
  checks: QualityCheckV1[]
  /** The version of the protocol rules that checked the chat's messages. */
  rule_set_version: string
  /** When these figures were computed. */
  computed_at: Date
}

/** ChatQualityV1 as schemas/chat-quality.v1.avsc defines it. */
export const chatQualityV1: SchemaVersion = {
  version: 1,
  schema: {
    type: 'record',
    name: 'ChatQuality',
    namespace: 'com.wolkvoxchatstream',
    doc: "The service quality of one chat: response timings, the operation's standards met, and protocol checks of the agent's messages by keyword rules. Topic wolkvox.chat.quality.v1 (compacted), key server|conn_id: the latest record per key is the chat's current figures. Written when the chat is complete or idle, and again only when later messages or a rules change alter it. Definitions: services/chat-quality/README.md.",
    fields: [
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exact ("0010").',
      },
      { name: 'conn_id', type: 'string', doc: 'Upstream chat id, as in ChatMessage.conn_id.' },
      {
        name: 'agent_key',
        type: 'string',
        doc: "The agent's identity: agent_name of the chat's first message in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased (as AgentSentiment.agent_key).",
      },
      { name: 'agent_name', type: 'string', doc: "agent_name of the chat's first message, exact." },
      {
        name: 'channel',
        type: 'string',
        doc: "channel_normalized of the chat's first message (smallest position).",
      },
      {
        name: 'started_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "The earliest sent_at of the chat's messages; its local day and hour are where the chat is counted.",
      },
      {
        name: 'ended_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "The latest sent_at of the chat's messages.",
      },
      {
        name: 'complete',
        type: 'boolean',
        doc: 'True when a message with position = conversation_length - 1 was seen; false for a chat written after the idle timeout.',
      },
      {
        name: 'first_response_ms',
        type: ['null', 'long'],
        default: null,
        doc: 'From the first customer message to the first agent message after it (a bot message is not a response); null when no agent answered.',
      },
      {
        name: 'handoff_ms',
        type: ['null', 'long'],
        default: null,
        doc: 'From the last bot message before the first agent message to that agent message; null when no bot spoke before the first agent.',
      },
      {
        name: 'response_gaps_ms',
        type: { type: 'array', items: 'long' },
        default: [],
        doc: "One gap per customer turn an agent answered, in order: from the turn's first customer message (the first after the previous agent message) to the next agent message. The first is first_response_ms.",
      },
      {
        name: 'longest_wait_ms',
        type: ['null', 'long'],
        default: null,
        doc: 'The largest of response_gaps_ms; null when there is none.',
      },
      {
        name: 'last_turn_unanswered',
        type: 'boolean',
        doc: 'True when the customer wrote last: no agent message followed the last customer turn.',
      },
      {
        name: 'duration_ms',
        type: 'long',
        doc: 'From the first message to the last (ended_at - started_at).',
      },
      {
        name: 'messages',
        type: {
          type: 'record',
          name: 'QualitySenderCounts',
          doc: 'Messages of the chat per sender.',
          fields: [
            { name: 'customer', type: 'int', doc: 'Messages whose sender is customer.' },
            { name: 'agent', type: 'int', doc: 'Messages whose sender is agent.' },
            { name: 'bot', type: 'int', doc: 'Messages whose sender is bot.' },
            { name: 'other', type: 'int', doc: 'Messages of any other sender.' },
          ],
        },
        doc: 'Messages per sender.',
      },
      {
        name: 'first_response_target_ms',
        type: 'long',
        doc: 'The first-response standard the chat was held to (QUALITY_FIRST_RESPONSE_TARGET).',
      },
      {
        name: 'response_gap_target_ms',
        type: 'long',
        doc: 'The response-gap standard the chat was held to (QUALITY_RESPONSE_GAP_TARGET).',
      },
      {
        name: 'meets_first_response',
        type: ['null', 'boolean'],
        default: null,
        doc: 'first_response_ms within its target; false when no agent answered; null when the customer never wrote.',
      },
      {
        name: 'meets_response_gaps',
        type: ['null', 'boolean'],
        default: null,
        doc: 'Every answered customer turn answered within its target; false when no agent answered at all; null when the customer never wrote. A last turn left unanswered is not a gap (last_turn_unanswered reports it).',
      },
      {
        name: 'checks',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'QualityCheck',
            doc: 'One protocol check of the chat: a rule of the protocol rules file.',
            fields: [
              { name: 'check', type: 'string', doc: 'The rule\'s id ("saludo").' },
              {
                name: 'kind',
                type: {
                  type: 'enum',
                  name: 'QualityCheckKind',
                  doc: 'required: passes when a term matches; forbidden (an id starting with no-): passes when none does.',
                  symbols: ['required', 'forbidden'],
                  default: 'required',
                },
                doc: 'How the check reads its matches.',
              },
              { name: 'passed', type: 'boolean', doc: 'Whether the chat passes the check.' },
              {
                name: 'explanations',
                type: {
                  type: 'array',
                  items: {
                    type: 'record',
                    name: 'QualityExplanation',
                    doc: 'One occurrence of a term of the check in an agent message.',
                    fields: [
                      {
                        name: 'term',
                        type: 'string',
                        doc: 'The term as written in the rules file.',
                      },
                      {
                        name: 'kind',
                        type: 'string',
                        doc: 'How the term counted: phrase, keyword or allOf.',
                      },
                      {
                        name: 'event_id',
                        type: 'string',
                        doc: 'event_id of the ChatMessage the term was found in.',
                      },
                      {
                        name: 'matched_text',
                        type: 'string',
                        doc: 'The matched text, exact as in the message.',
                      },
                      {
                        name: 'start',
                        type: 'int',
                        doc: 'Offset of the match in the message, in UTF-16 code units, inclusive.',
                      },
                      {
                        name: 'end',
                        type: 'int',
                        doc: 'Offset of the end of the match, in UTF-16 code units, exclusive.',
                      },
                    ],
                  },
                },
                default: [],
                doc: 'The matches that decided the check, in message order (position), then text order.',
              },
            ],
          },
        },
        default: [],
        doc: "Every check of the rules file, in the file's order.",
      },
      {
        name: 'rule_set_version',
        type: 'string',
        doc: "The version of the protocol rules that checked the chat's messages.",
      },
      {
        name: 'computed_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When these figures were computed.',
      },
    ],
  },
}

/** Written by the poller after Kafka acknowledged every event of a window, before it advances the watermark in Redis. Topic wolkvox.poller.checkpoint.v1 (compacted), key server|report: the latest record per key is the operation's watermark, from which the poller recovers when Redis lost its data. (`com.wolkvoxchatstream.PollerCheckpoint`, schemas/poller-checkpoint.v1.avsc) */
export interface PollerCheckpointV1 {
  /** The Wolkvox operation's server code, exact ("0010"). */
  server: string
  /** The report polled: "chat_2". */
  report: string
  /** The new watermark: the last second covered, inclusive. The next poll starts at watermark + 1 s (minus the lookback). */
  watermark: Date
  /** First instant of the window just published, inclusive. */
  window_start: Date
  /** Last second of the window just published, inclusive. */
  window_end: Date
  /** Messages the upstream returned for the window (all responses, after splits). */
  fetched: number
  /** Events produced to wolkvox.chat.message.v1 and acknowledged. */
  published: number
  /** Messages skipped because their event_id was already published. */
  duplicates: number
  /** Rows sent to wolkvox.poller.dlq.v1 (structurally broken, or over the 16 MB record limit). */
  dead_lettered: number
  /** How many times a response at the row cap or over the size cap was split and asked again. */
  splits: number
  /** The token lock's fencing counter under which the window was published; null when no lock was used. */
  fence: null | number
  /** When the checkpoint was written. */
  checkpointed_at: Date
}

/** PollerCheckpointV1 as schemas/poller-checkpoint.v1.avsc defines it. */
export const pollerCheckpointV1: SchemaVersion = {
  version: 1,
  schema: {
    type: 'record',
    name: 'PollerCheckpoint',
    namespace: 'com.wolkvoxchatstream',
    doc: "Written by the poller after Kafka acknowledged every event of a window, before it advances the watermark in Redis. Topic wolkvox.poller.checkpoint.v1 (compacted), key server|report: the latest record per key is the operation's watermark, from which the poller recovers when Redis lost its data.",
    fields: [
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exact ("0010").',
      },
      { name: 'report', type: 'string', doc: 'The report polled: "chat_2".' },
      {
        name: 'watermark',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'The new watermark: the last second covered, inclusive. The next poll starts at watermark + 1 s (minus the lookback).',
      },
      {
        name: 'window_start',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'First instant of the window just published, inclusive.',
      },
      {
        name: 'window_end',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'Last second of the window just published, inclusive.',
      },
      {
        name: 'fetched',
        type: 'long',
        doc: 'Messages the upstream returned for the window (all responses, after splits).',
      },
      {
        name: 'published',
        type: 'long',
        doc: 'Events produced to wolkvox.chat.message.v1 and acknowledged.',
      },
      {
        name: 'duplicates',
        type: 'long',
        doc: 'Messages skipped because their event_id was already published.',
      },
      {
        name: 'dead_lettered',
        type: 'long',
        doc: 'Rows sent to wolkvox.poller.dlq.v1 (structurally broken, or over the 16 MB record limit).',
      },
      {
        name: 'splits',
        type: 'int',
        doc: 'How many times a response at the row cap or over the size cap was split and asked again.',
      },
      {
        name: 'fence',
        type: ['null', 'long'],
        default: null,
        doc: "The token lock's fencing counter under which the window was published; null when no lock was used.",
      },
      {
        name: 'checkpointed_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When the checkpoint was written.',
      },
    ],
  },
}

/** One tramite found in the chat, with its score. (`com.wolkvoxchatstream.TramiteLabel`, schemas/tramite-classification.v1.avsc) */
export interface TramiteLabelV1 {
  /** The tramite's id in the rule set ("certificado"). */
  tramite: string
  /** 1 - 2^-w rounded to 3 decimals, in (0, 1], where w weighs the distinct terms found (phrase 2, keyword 1, a satisfied allOf 2). */
  score: number
}

/** One occurrence of a term that counted, so a person can see why a label was given. (`com.wolkvoxchatstream.TramiteExplanation`, schemas/tramite-classification.v1.avsc) */
export interface TramiteExplanationV1 {
  /** The tramite id the term belongs to. */
  tramite: string
  /** The term as written in the rule set ("certificad*", "cancel* la factura"). */
  term: string
  /** How the term counted: phrase, keyword or allOf (a term of an allOf group satisfied in its message). */
  kind: string
  /** event_id of the ChatMessage the term was found in. */
  event_id: string
  /** The matched text, exact as in the message (the whole word for a prefix term). */
  matched_text: string
  /** Offset of the match in the message, in UTF-16 code units, inclusive. */
  start: number
  /** Offset of the end of the match, in UTF-16 code units, exclusive. */
  end: number
}

/** The tramites (customer request types) of one chat, found by keyword rules in its messages (customer messages with the shipped rules). Topic wolkvox.chat.tramite.v1 (compacted), key server|conn_id: the latest record per key is the chat's current classification. Written when the chat is complete or idle, and again when later messages or a reclassification change it. (`com.wolkvoxchatstream.TramiteClassification`, schemas/tramite-classification.v1.avsc) */
export interface TramiteClassificationV1 {
  /** The Wolkvox operation's server code, exact ("0010"). */
  server: string
  /** Upstream chat id, as in ChatMessage.conn_id. */
  conn_id: string
  /** channel_normalized of the chat's first message (smallest sent_at, then position). */
  channel: string
  /** sent_at of the chat's first message; its local day is the day the chat is counted in. */
  started_at: Date
  /** The id of the first label (the best); null when no tramite matched. */
  primary_tramite: null | string
  /** Every tramite found, best first: by score, then the rule's priority (higher first), then id. */
  labels: TramiteLabelV1[]
  /** The matches behind labels, in message order (sent_at, then position), then text order. */
  explanations: TramiteExplanationV1[]
  /** The version of the rule set that classified the chat's messages (the one in force when a message of the chat was last handled, or the one reclassify used). */
  rule_set_version: string
  /** True when a message with position = conversation_length - 1 was seen; false for a chat written after the idle timeout. */
  complete: boolean
  /** When this classification was computed. */
  classified_at: Date
}

/** TramiteClassificationV1 as schemas/tramite-classification.v1.avsc defines it. */
export const tramiteClassificationV1: SchemaVersion = {
  version: 1,
  schema: {
    type: 'record',
    name: 'TramiteClassification',
    namespace: 'com.wolkvoxchatstream',
    doc: "The tramites (customer request types) of one chat, found by keyword rules in its messages (customer messages with the shipped rules). Topic wolkvox.chat.tramite.v1 (compacted), key server|conn_id: the latest record per key is the chat's current classification. Written when the chat is complete or idle, and again when later messages or a reclassification change it.",
    fields: [
      {
        name: 'server',
        type: 'string',
        doc: 'The Wolkvox operation\'s server code, exact ("0010").',
      },
      { name: 'conn_id', type: 'string', doc: 'Upstream chat id, as in ChatMessage.conn_id.' },
      {
        name: 'channel',
        type: 'string',
        doc: "channel_normalized of the chat's first message (smallest sent_at, then position).",
      },
      {
        name: 'started_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: "sent_at of the chat's first message; its local day is the day the chat is counted in.",
      },
      {
        name: 'primary_tramite',
        type: ['null', 'string'],
        default: null,
        doc: 'The id of the first label (the best); null when no tramite matched.',
      },
      {
        name: 'labels',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'TramiteLabel',
            doc: 'One tramite found in the chat, with its score.',
            fields: [
              {
                name: 'tramite',
                type: 'string',
                doc: 'The tramite\'s id in the rule set ("certificado").',
              },
              {
                name: 'score',
                type: 'double',
                doc: '1 - 2^-w rounded to 3 decimals, in (0, 1], where w weighs the distinct terms found (phrase 2, keyword 1, a satisfied allOf 2).',
              },
            ],
          },
        },
        default: [],
        doc: "Every tramite found, best first: by score, then the rule's priority (higher first), then id.",
      },
      {
        name: 'explanations',
        type: {
          type: 'array',
          items: {
            type: 'record',
            name: 'TramiteExplanation',
            doc: 'One occurrence of a term that counted, so a person can see why a label was given.',
            fields: [
              { name: 'tramite', type: 'string', doc: 'The tramite id the term belongs to.' },
              {
                name: 'term',
                type: 'string',
                doc: 'The term as written in the rule set ("certificad*", "cancel* la factura").',
              },
              {
                name: 'kind',
                type: 'string',
                doc: 'How the term counted: phrase, keyword or allOf (a term of an allOf group satisfied in its message).',
              },
              {
                name: 'event_id',
                type: 'string',
                doc: 'event_id of the ChatMessage the term was found in.',
              },
              {
                name: 'matched_text',
                type: 'string',
                doc: 'The matched text, exact as in the message (the whole word for a prefix term).',
              },
              {
                name: 'start',
                type: 'int',
                doc: 'Offset of the match in the message, in UTF-16 code units, inclusive.',
              },
              {
                name: 'end',
                type: 'int',
                doc: 'Offset of the end of the match, in UTF-16 code units, exclusive.',
              },
            ],
          },
        },
        default: [],
        doc: 'The matches behind labels, in message order (sent_at, then position), then text order.',
      },
      {
        name: 'rule_set_version',
        type: 'string',
        doc: "The version of the rule set that classified the chat's messages (the one in force when a message of the chat was last handled, or the one reclassify used).",
      },
      {
        name: 'complete',
        type: 'boolean',
        doc: 'True when a message with position = conversation_length - 1 was seen; false for a chat written after the idle timeout.',
      },
      {
        name: 'classified_at',
        type: { type: 'long', logicalType: 'timestamp-millis' },
        doc: 'When this classification was computed.',
      },
    ],
  },
}
