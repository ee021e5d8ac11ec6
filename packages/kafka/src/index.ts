export {
  createKafkaClient,
  kafkaLogToLogger,
  type KafkaConnection,
  type KafkaLogEntry,
} from './client.js'
export { waitForKafka, type WaitForKafkaOptions } from './ready.js'
export { IDEMPOTENT_RETRIES_WARNING, projectLevelOf } from './kafka-log.js'
export { readKafkaConfig, readKafkaSettings, type KafkaSettings } from './config.js'
export { toKafkaError, type KafkaResource } from './errors.js'
export { assertGroupAccess } from './group-access.js'
export {
  DEFAULT_MAX_RECORD_BYTES,
  chunkRecords,
  createEventProducer,
  recordBytes,
  type EventProducer,
  type EventProducerOptions,
  type OutgoingRecord,
} from './producer.js'
export {
  compareTopic,
  minInsyncFor,
  provisionOptionsOf,
  provisionTopics,
  type ObservedTopic,
  type ProvisionOptions,
  type ProvisionResult,
  type TopicMismatch,
  type TopicSpec,
} from './provision.js'
export {
  consumerFetchSizes,
  createConsumer,
  runBatches,
  type ConsumerOptions,
  type RunBatchesOptions,
} from './consumer.js'
export { readTopicToEnd, type ReadRecord } from './read-to-end.js'
export { createSessionProducer } from './producer-session.js'
// Types of the underlying client, so that no other package needs to import kafkajs.
export type {
  Kafka,
  Producer,
  Consumer,
  Admin,
  EachBatchPayload,
  EachMessagePayload,
  Message,
  KafkaMessage,
  ITopicConfig,
  ITopicMetadata,
  RecordMetadata,
} from 'kafkajs'
export { CompressionTypes } from 'kafkajs'
