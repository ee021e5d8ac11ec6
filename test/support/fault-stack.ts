/*
 * The fault suite's services. Each file of test/fault starts a Kafka (`KAFKA_VERSION`, default
 * 3.9.2; one broker, or a cluster of `KAFKA_NODES` nodes) and a redis-server of its own, so it may
 * stop, restart or flush them freely: no other test ever sees them. The contract's topics are
 * provisioned as the services would.
 */
import {
  kafkaNodesFromEnv,
  kafkaVersionFromEnv,
  startPrivateStack,
  type KafkaCluster,
  type LocalKafka,
  type RedisServer,
} from '@wolkvox-chat-stream/dev-stack'
import { productTopics } from '@wolkvox-chat-stream/events'
import {
  createKafkaClient,
  provisionTopics,
  type Kafka,
  type KafkaConnection,
} from '@wolkvox-chat-stream/kafka'

/** A private Kafka and redis-server for one fault test file. */
export interface FaultStack {
  /** The Kafka: `stopProcess()` and `start()` stop and start all of it (every node of a cluster). */
  broker: LocalKafka
  /** The same Kafka as a cluster, to stop and start single nodes; absent for one broker. */
  cluster?: KafkaCluster
  redis: RedisServer
  /**
   * `127.0.0.1:<port>` of the broker, or of a cluster's first node: the harnesses pass it as one
   * bootstrap address (kafkajs finds the other nodes in the metadata). A test that stops node 1
   * uses {@link FaultStack.bootstrap}.
   */
  brokers: string
  /** Every node's address. */
  bootstrap: string[]
  redisUrl: string
  /** A client on the broker, for the test's own reads and admin calls (the `admin` user when secured). */
  kafka: Kafka
  /** How the test's own clients connect: plain, or as the `admin` user of a secured cluster. */
  connection: KafkaConnection
  stop(): Promise<void>
}

/**
 * Starts a private Kafka and redis-server, and provisions the contract's topics. `nodes` (default
 * `KAFKA_NODES`, else 1) above 1 starts a KRaft cluster of that many nodes; `secure` starts it
 * secured (TLS, mutual TLS, SCRAM users, ACLs: see `startKafkaCluster`), the topics provisioned by
 * its `admin` user, and no ACL granted yet.
 */
export async function startFaultStack(
  options: { nodes?: number; secure?: boolean; users?: string[] } = {},
): Promise<FaultStack> {
  const version = kafkaVersionFromEnv()
  const stack = await startPrivateStack({
    kafka: { version },
    cluster: {
      version,
      nodes: options.nodes ?? kafkaNodesFromEnv(),
      ...(options.secure ? { secure: true, users: options.users ?? [] } : {}),
    },
  })
  const bootstrap = stack.kafkaBrokers.split(',')
  const security = stack.cluster?.security
  const connection: KafkaConnection = security
    ? { ...security.connection('admin'), clientId: 'fault-test' }
    : { brokers: bootstrap, clientId: 'fault-test' }
  const kafka = createKafkaClient(connection)
  try {
    await provisionTopics(kafka, productTopics, { create: true })
  } catch (error) {
    await stack.stop()
    throw error
  }
  return {
    broker: stack.kafka,
    ...(stack.cluster ? { cluster: stack.cluster } : {}),
    redis: stack.redis,
    brokers: bootstrap[0]!,
    bootstrap,
    redisUrl: stack.redisUrl,
    kafka,
    connection,
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
