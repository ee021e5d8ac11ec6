export {
  createEventCodec,
  parseSchema,
  type AvroSchema,
  type EncodeOptions,
  type EventCodec,
  type EventCodecOptions,
  type SchemaVersion,
} from './codec.js'
export {
  crc64Avro,
  fingerprintBytes,
  formatFingerprint,
  parsingCanonicalForm,
  parsingFingerprint64,
} from './fingerprint.js'
export {
  agentSentimentCodec,
  chatMessageCodec,
  decodeAgentSentiment,
  decodeChatMessage,
  decodePollerCheckpoint,
  decodeTramiteClassification,
  encodeAgentSentiment,
  encodeChatMessage,
  encodePollerCheckpoint,
  encodeTramiteClassification,
  identifyFingerprint,
  pollerCheckpointCodec,
  schemaVersions,
  shippedFingerprints,
  tramiteClassificationCodec,
  type AgentSentiment,
  type ChatMessage,
  type Granularity,
  type PollerCheckpoint,
  type Sender,
  type SenderCounts,
  type Sentiment,
  type SentimentCounts,
  type TramiteClassification,
  type TramiteExplanation,
  type TramiteLabel,
} from './records.js'
export { eventId, type EventIdParts } from './event-id.js'
export { chatMessageRevision, type RevisionFields } from './chat-message-revision.js'
export {
  buildChatMessages,
  isBotSpelling,
  normalizeChannel,
  senderOf,
  sentimentOf,
  type ChatBuildResult,
  type PollContext,
  type RejectedRow,
} from './chat-message-builder.js'
export { assertTimeZone, upstreamDateToEpochMs, wallTimeToEpochMs } from './zoned-time.js'
export {
  MAX_RECORD_BYTES,
  TOPIC_MAX_MESSAGE_BYTES,
  dlqHeaders,
  dlqTopic,
  productTopics,
  pollerTopics,
  topicKeys,
  topics,
  type TopicSpec,
} from './topics.js'
