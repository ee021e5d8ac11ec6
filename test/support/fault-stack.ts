/*
 * The fault suite's services. Each file of test/fault starts a broker (`KAFKA_VERSION`, default
 * 3.9.2) and a redis-server of its own, so it may stop, restart or flush them freely: no other
 * test ever sees them. The contract's topics are provisioned as the services would.
 */
import {
  kafkaVersionFromEnv,
  startPrivateStack,
  type KafkaBroker,
  type RedisServer,
} from '@wolkvox-chat-stream/dev-stack'
import { productTopics } from '@wolkvox-chat-stream/events'
import { createKafkaClient, provisionTopics, type Kafka } from '@wolkvox-chat-stream/kafka'

/** A private broker and redis-server for one fault test file. */
export interface FaultStack {
  broker: KafkaBroker
  redis: RedisServer
  /** `127.0.0.1:<port>` of the broker. */
  brokers: string
  redisUrl: string
  /** A client on the broker, for the test's own reads and admin calls. */
  kafka: Kafka
  stop(): Promise<void>
}

/** Starts a private broker and redis-server, and provisions the contract's topics. */
export async function startFaultStack(): Promise<FaultStack> {
  const stack = await startPrivateStack({ kafka: { version: kafkaVersionFromEnv() } })
  const kafka = createKafkaClient({ brokers: [stack.kafkaBrokers], clientId: 'fault-test' })
  try {
    await provisionTopics(kafka, productTopics, { create: true })
  } catch (error) {
    await stack.stop()
    throw error
  }
  return {
    broker: stack.kafka,
    redis: stack.redis,
    brokers: stack.kafkaBrokers,
    redisUrl: stack.redisUrl,
    kafka,
    stop: () => stack.stop(),
  }
}

/** The sum of the end offsets of `topic`: how many records were ever written to it. */
export async function topicEndOffsets(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((sum, p) => sum + Number(p.high), 0)
  } finally {
    await admin.disconnect()
  }
}
