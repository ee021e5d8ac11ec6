import { AppError } from '@wolkvox-chat-stream/errors'
import {
  createEventCodec,
  type AvroSchema,
  type EncodeOptions,
  type EventCodec,
  type SchemaVersion,
} from './codec.js'
import { formatFingerprint, parsingFingerprint64 } from './fingerprint.js'
import {
  agentSentimentV1,
  agentSentimentV2,
  chatMessageV1,
  chatQualityV1,
  chatMessageV2,
  pollerCheckpointV1,
  tramiteClassificationV1,
  type AgentSentimentV2,
  type ChatMessageV2,
  type ChatQualityV1,
  type QualityCheckKindV1,
  type QualityCheckV1,
  type QualityExplanationV1,
  type QualitySenderCountsV1,
  type GranularityV2,
  type PollerCheckpointV1,
  type SenderCountsV2,
  type SenderV2,
  type SentimentCountsV2,
  type SentimentV2,
  type TramiteClassificationV1,
  type TramiteExplanationV1,
  type TramiteLabelV1,
} from './generated/records.js'

/**
 * A message of a Wolkvox chat, as on `wolkvox.chat.message.v1`: ChatMessage v2, the version this
 * package writes and resolves every shipped version to (a v1 record reads with `revision: ""`).
 */
export type ChatMessage = ChatMessageV2
/** `ChatMessage.sender`. */
export type Sender = SenderV2
/** `ChatMessage.sentiment`. */
export type Sentiment = SentimentV2
/** A poller checkpoint, as on `wolkvox.poller.checkpoint.v1`. */
export type PollerCheckpoint = PollerCheckpointV1
/**
 * One agent's sentiment in one window, as on `wolkvox.agent.sentiment.v1`: AgentSentiment v2, the
 * version this package writes and resolves every shipped version to (a v1 record reads with
 * `messages_by_text_sentiment` and `text_mean_score` null).
 */
export type AgentSentiment = AgentSentimentV2
/** `AgentSentiment.granularity`. */
export type Granularity = GranularityV2
/** `AgentSentiment.messages_by_sentiment` and `AgentSentiment.messages_by_text_sentiment`. */
export type SentimentCounts = SentimentCountsV2
/** `AgentSentiment.messages_by_sender`. */
export type SenderCounts = SenderCountsV2
/** A chat's trámites, as on `wolkvox.chat.tramite.v1`. */
export type TramiteClassification = TramiteClassificationV1
/** `TramiteClassification.labels[]`. */
export type TramiteLabel = TramiteLabelV1
/** `TramiteClassification.explanations[]`. */
export type TramiteExplanation = TramiteExplanationV1
/** A chat's service quality, as on `wolkvox.chat.quality.v1`. */
export type ChatQuality = ChatQualityV1
/** `ChatQuality.messages`. */
export type QualitySenderCounts = QualitySenderCountsV1
/** `ChatQuality.checks[]`. */
export type QualityCheck = QualityCheckV1
/** `ChatQuality.checks[].kind`. */
export type QualityCheckKind = QualityCheckKindV1
/** `ChatQuality.checks[].explanations[]`. */
export type QualityExplanation = QualityExplanationV1

/**
 * Every shipped version of every record, oldest first per record. A new version is added here
 * (and generated from its `.avsc`); a version is never removed while data written with it may
 * still be on a topic.
 */
export const schemaVersions = {
  chatMessage: [chatMessageV1, chatMessageV2],
  pollerCheckpoint: [pollerCheckpointV1],
  agentSentiment: [agentSentimentV1, agentSentimentV2],
  tramiteClassification: [tramiteClassificationV1],
  chatQuality: [chatQualityV1],
} as const satisfies Record<string, readonly SchemaVersion[]>

const owners = new Map<bigint, string>()
for (const versions of Object.values(schemaVersions)) {
  for (const { version, schema } of versions) {
    owners.set(parsingFingerprint64(schema), `${String(schema.name)} v${version}`)
  }
}

/**
 * Names the record and version a fingerprint belongs to among the shipped schemas
 * (`ChatMessage v1`), or `undefined`.
 */
export function identifyFingerprint(fingerprint: bigint): string | undefined {
  return owners.get(fingerprint)
}

function codecOf<T>(versions: readonly SchemaVersion[]): EventCodec<T> {
  const reader = versions[versions.length - 1] as SchemaVersion
  return createEventCodec<T>({ reader, writers: versions, identify: identifyFingerprint })
}

/**
 * Codec of `ChatMessage`: writes the newest version (v2) unless `encode(event, { version: 1 })`
 * asks for v1, and reads every shipped one into v2.
 */
export const chatMessageCodec: EventCodec<ChatMessage> = codecOf(schemaVersions.chatMessage)
/** Codec of `PollerCheckpoint`. */
export const pollerCheckpointCodec: EventCodec<PollerCheckpoint> = codecOf(
  schemaVersions.pollerCheckpoint,
)
/**
 * Codec of `AgentSentiment`: writes the newest version (v2, with the text-scored figures) unless
 * `encode(value, { version: 1 })` asks for v1, and reads every shipped one into v2.
 */
export const agentSentimentCodec: EventCodec<AgentSentiment> = codecOf(
  schemaVersions.agentSentiment,
)
/** Codec of `TramiteClassification`. */
export const tramiteClassificationCodec: EventCodec<TramiteClassification> = codecOf(
  schemaVersions.tramiteClassification,
)

/** Codec of `ChatQuality`. */
export const chatQualityCodec: EventCodec<ChatQuality> = codecOf(schemaVersions.chatQuality)

/**
 * The single-object encoding of a ChatMessage, in v2 by default. `{ version: 1 }` writes v1 (no
 * `revision`) for installations whose subscribers do not ship v2 yet: readers are upgraded
 * before writers.
 * @throws AppError `EVENT_SCHEMA_MISMATCH` naming each bad field path; `EVENT_SCHEMA_INVALID`
 * for a version that is not shipped.
 */
export const encodeChatMessage = (event: ChatMessage, options?: EncodeOptions): Buffer =>
  chatMessageCodec.encode(event, options)

/**
 * Decodes a ChatMessage written with any shipped version.
 * @throws AppError `EVENT_NOT_SINGLE_OBJECT`, `EVENT_UNKNOWN_FINGERPRINT` or `EVENT_BODY_INVALID`.
 */
export const decodeChatMessage = (bytes: Uint8Array): ChatMessage => chatMessageCodec.decode(bytes)

/** @see encodeChatMessage */
export const encodePollerCheckpoint = (value: PollerCheckpoint, options?: EncodeOptions): Buffer =>
  pollerCheckpointCodec.encode(value, options)
/** @see decodeChatMessage */
export const decodePollerCheckpoint = (bytes: Uint8Array): PollerCheckpoint =>
  pollerCheckpointCodec.decode(bytes)
/**
 * The single-object encoding of an AgentSentiment, in v2 by default. `{ version: 1 }` writes v1
 * (without `messages_by_text_sentiment` and `text_mean_score`) for installations whose subscribers
 * do not ship v2 yet: readers are upgraded before writers.
 * @throws AppError `EVENT_SCHEMA_MISMATCH` naming each bad field path; `EVENT_SCHEMA_INVALID`
 * for a version that is not shipped.
 */
export const encodeAgentSentiment = (value: AgentSentiment, options?: EncodeOptions): Buffer =>
  agentSentimentCodec.encode(value, options)
/** Decodes an AgentSentiment written with any shipped version (v1: the text figures null). */
export const decodeAgentSentiment = (bytes: Uint8Array): AgentSentiment =>
  agentSentimentCodec.decode(bytes)
/** @see encodeChatMessage */
export const encodeTramiteClassification = (
  value: TramiteClassification,
  options?: EncodeOptions,
): Buffer => tramiteClassificationCodec.encode(value, options)
/** @see decodeChatMessage */
export const decodeTramiteClassification = (bytes: Uint8Array): TramiteClassification =>
  tramiteClassificationCodec.decode(bytes)

/** The shipped fingerprints as hex, for logs and the subscriber guide. */
export function shippedFingerprints(): { record: string; fingerprint: string }[] {
  return [...owners].map(([fp, record]) => ({ record, fingerprint: formatFingerprint(fp) }))
}

/** Every record's codec, by the record's full name (`com.wolkvoxchatstream.ChatMessage`). */
const codecsByName = new Map<string, EventCodec<unknown>>(
  [
    chatMessageCodec,
    pollerCheckpointCodec,
    agentSentimentCodec,
    tramiteClassificationCodec,
    chatQualityCodec,
  ].map((codec) => [codec.name, codec as EventCodec<unknown>]),
)

/**
 * Tells the codec of the schema's record what registry schema id `id` is (see
 * `EventCodec.addRegistrySchema`), so that Confluent wire format bytes with that id decode.
 * @returns the record's full name.
 * @throws AppError `EVENT_SCHEMA_INVALID` for a schema that is not JSON, not a record the product
 * reads, or not readable as its version.
 */
export function addRegistrySchema(id: number, schemaText: string): string {
  let schema: AvroSchema
  try {
    schema = JSON.parse(schemaText) as AvroSchema
  } catch (error) {
    throw new AppError('EVENT_SCHEMA_INVALID', `Registry schema ${id} is not JSON`, {
      cause: error,
      details: { id },
    })
  }
  const full =
    typeof schema.namespace === 'string' &&
    typeof schema.name === 'string' &&
    !schema.name.includes('.')
      ? `${schema.namespace}.${schema.name}`
      : String(schema.name)
  const codec = codecsByName.get(full)
  if (codec === undefined) {
    throw new AppError(
      'EVENT_SCHEMA_INVALID',
      `Registry schema ${id} is a ${full}, which the product does not read`,
      { details: { id, record: full } },
    )
  }
  codec.addRegistrySchema(id, schema)
  return full
}

/** Whether any codec was told about registry schema id `id`. */
export function knowsRegistrySchema(id: number): boolean {
  return [...codecsByName.values()].some((codec) => codec.knowsRegistryId(id))
}
