/** Largest record the product produces: key, value and headers (ARCHITECTURE.md: Topics). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024

/**
 * `max.message.bytes` of every topic: a 16 MB record plus room for the record batch framing and
 * headers, the same headroom the local broker's `message.max.bytes` has.
 */
export const TOPIC_MAX_MESSAGE_BYTES = MAX_RECORD_BYTES + 1024 * 1024

const DAY_MS = 86_400_000

/** A topic of the contract and the settings it is provisioned and verified with. */
export interface TopicSpec {
  readonly name: string
  readonly partitions: number
  readonly cleanupPolicy: 'delete' | 'compact'
  /** `retention.ms` for `delete` topics; compacted topics keep the broker's default. */
  readonly retentionMs?: number
  readonly maxMessageBytes: number
  /** What the key is, for the subscriber guide. */
  readonly key: string
  /** What the value is. */
  readonly value: string
}

/** Every topic of the contract. Names and keys never change within a major version. */
export const topics = {
  chatMessage: {
    name: 'wolkvox.chat.message.v1',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'conn_id',
    value: 'ChatMessage (Avro single-object encoding)',
  },
  agentSentiment: {
    name: 'wolkvox.agent.sentiment.v1',
    partitions: 6,
    cleanupPolicy: 'compact',
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'server|agent_key|granularity|window_start (ISO 8601 UTC instant)',
    value: 'AgentSentiment (Avro single-object encoding)',
  },
  chatTramite: {
    name: 'wolkvox.chat.tramite.v1',
    partitions: 6,
    cleanupPolicy: 'compact',
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'server|conn_id',
    value: 'TramiteClassification (Avro single-object encoding)',
  },
  chatQuality: {
    name: 'wolkvox.chat.quality.v1',
    partitions: 6,
    cleanupPolicy: 'compact',
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'server|conn_id',
    value: 'ChatQuality (Avro single-object encoding)',
  },
  pollerCheckpoint: {
    name: 'wolkvox.poller.checkpoint.v1',
    partitions: 1,
    cleanupPolicy: 'compact',
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'server|report',
    value: 'PollerCheckpoint (Avro single-object encoding)',
  },
  pollerDlq: {
    name: 'wolkvox.poller.dlq.v1',
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'server|conn_id',
    value: 'the raw JSON of the upstream row (UTF-8)',
  },
} as const satisfies Record<string, TopicSpec>

/** The topics every deployment provisions (the per-group dead-letter topics come with their groups). */
export const productTopics: readonly TopicSpec[] = Object.values(topics)

/**
 * The topics the poller writes, and provisions or verifies at start: chat messages, its checkpoints
 * and its dead letters. The consumers' output topics are their own (a principal of a secured
 * cluster sees only what its ACLs allow).
 */
export const pollerTopics: readonly TopicSpec[] = [
  topics.chatMessage,
  topics.pollerCheckpoint,
  topics.pollerDlq,
]

const GROUP = /^[a-z0-9][a-z0-9-]*$/

/**
 * The dead-letter topic of a consumer group: `wolkvox.<group>.dlq`. Its records keep the original
 * key and bytes, with headers `dlq.topic`, `dlq.partition`, `dlq.offset`, `dlq.error.code` and
 * `dlq.error.message`.
 *
 * @throws RangeError when `group` is not lower-case letters, digits and dashes (a programming error).
 */
export function dlqTopic(group: string): TopicSpec {
  if (!GROUP.test(group)) throw new RangeError(`"${group}" is not a valid consumer group name`)
  return {
    name: `wolkvox.${group}.dlq`,
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES,
    key: 'the original key',
    value: 'the original bytes',
  }
}

/** The headers of a dead-letter record. */
export const dlqHeaders = {
  topic: 'dlq.topic',
  partition: 'dlq.partition',
  offset: 'dlq.offset',
  errorCode: 'dlq.error.code',
  errorMessage: 'dlq.error.message',
} as const

/**
 * Record keys of the contract (UTF-8 strings). Parts are joined with `|`; they stay unambiguous
 * because `server` is digits and the other parts are either fixed-form or last, so a free-text part
 * (an agent key, a conn_id) may itself hold `|`. Read fields from the value, not from the key.
 */
export const topicKeys = {
  /** `wolkvox.chat.message.v1`: `conn_id`. */
  chatMessage: (event: { conn_id: string }): string => event.conn_id,
  /**
   * `wolkvox.agent.sentiment.v1`: `server|agent_key|granularity|window_start` with `window_start`
   * as an ISO 8601 UTC instant (`2025-02-11T15:00:00.000Z`).
   */
  agentSentiment: (value: {
    server: string
    agent_key: string
    granularity: string
    window_start: Date
  }): string =>
    `${value.server}|${value.agent_key}|${value.granularity}|${value.window_start.toISOString()}`,
  /** `wolkvox.chat.tramite.v1`, `wolkvox.chat.quality.v1` and `wolkvox.poller.dlq.v1`: `server|conn_id`. */
  serverConnId: (value: { server: string; conn_id: string }): string =>
    `${value.server}|${value.conn_id}`,
  /** `wolkvox.poller.checkpoint.v1`: `server|report`. */
  pollerCheckpoint: (value: { server: string; report: string }): string =>
    `${value.server}|${value.report}`,
} as const
