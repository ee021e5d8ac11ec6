import { AppError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient } from './client.js'

/** Options for {@link waitForKafka}. */
export interface WaitForKafkaOptions {
  timeoutMs?: number
  /** Stops waiting early, for example when the broker process has exited. */
  signal?: AbortSignal
  /** A topic created (with one partition) and waited on for its leader; proves writes work. */
  probeTopic?: string
  /**
   * The cluster id the broker must report. Another broker answering on the address (one that took
   * the port first, while the expected one fails to bind it) is then not taken for ready.
   */
  clusterId?: string
}

/**
 * Waits until a cluster answers real client calls: an admin connection, a `describeCluster` that
 * lists a broker, and the creation of a probe topic whose leader is elected.
 * @throws AppError `KAFKA_UNAVAILABLE` with the last failure as `cause` when the time runs out.
 */
export async function waitForKafka(
  brokers: readonly string[],
  options: WaitForKafkaOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000)
  const probeTopic = options.probeTopic ?? '__wolkvox_ready_probe'
  let lastError: unknown
  while (Date.now() < deadline && !options.signal?.aborted) {
    const admin = createKafkaClient({
      brokers,
      clientId: 'wolkvox-ready-probe',
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 5_000,
    }).admin({ retry: { retries: 0 } })
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      if (cluster.brokers.length === 0) throw new Error('describeCluster returned no broker')
      if (options.clusterId !== undefined && cluster.clusterId !== options.clusterId) {
        throw new Error(
          `the broker answering is of cluster ${cluster.clusterId}, not ${options.clusterId}`,
        )
      }
      const existing = await admin.listTopics()
      if (!existing.includes(probeTopic)) {
        await admin.createTopics({
          waitForLeaders: true,
          timeout: 10_000,
          topics: [{ topic: probeTopic, numPartitions: 1, replicationFactor: 1 }],
        })
      }
      const metadata = await admin.fetchTopicMetadata({ topics: [probeTopic] })
      const leader = metadata.topics[0]?.partitions[0]?.leader
      if (leader === undefined || leader < 0) throw new Error('probe topic has no leader yet')
      return
    } catch (error) {
      lastError = error
      await new Promise((resolve) => setTimeout(resolve, 250))
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }
  throw new AppError('KAFKA_UNAVAILABLE', `Kafka at ${brokers.join(',')} did not become ready`, {
    cause: lastError,
  })
}
