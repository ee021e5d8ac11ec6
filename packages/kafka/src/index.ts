export { createKafkaClient, type KafkaConnection, type KafkaLogEntry } from './client.js'
export { waitForKafka, type WaitForKafkaOptions } from './ready.js'
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
} from 'kafkajs'
export { CompressionTypes } from 'kafkajs'
