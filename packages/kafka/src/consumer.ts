import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { AppError } from '@wolkvox-chat-stream/errors'
import { toKafkaError } from './errors.js'

/**
 * Fetch sizes of the project's consumers: 1 MiB per partition and 8 MiB per response. A record
 * batch larger than these (records reach 16 MB) still comes whole, as the first batch of its
 * partition in a fetch (brokers since KIP-74), so they bound memory, not record size. With 17 and
 * 34 MiB a consumer draining a backlog peaked at about 880 MiB RSS doing nothing; with these, 330
 * to 380 MiB (npm run bench, the raw consumer of the drain rows).
 */
export const consumerFetchSizes = {
  maxBytesPerPartition: 1 * 1024 * 1024,
  maxBytes: 8 * 1024 * 1024,
} as const

/** Options for {@link createConsumer}. */
export interface ConsumerOptions {
  groupId: string
  sessionTimeoutMs?: number
  heartbeatIntervalMs?: number
  /** kafkajs's retries of one request. Default 5. */
  retries?: number
  /**
   * How long the broker may hold a fetch when there is nothing new; a stop waits for the fetch in
   * flight, so this also bounds how long stopping an idle consumer takes. Default kafkajs's 5000.
   */
  maxWaitTimeMs?: number
}

/**
 * A kafkajs consumer for the contract's topics: fetch sizes for 16 MB records, no automatic topic
 * creation. Use {@link runBatches} to start it.
 */
export function createConsumer(kafka: Kafka, options: ConsumerOptions): Consumer {
  return kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    retry: { retries: options.retries ?? 5 },
    ...(options.maxWaitTimeMs === undefined ? {} : { maxWaitTimeInMs: options.maxWaitTimeMs }),
    ...consumerFetchSizes,
  })
}

/** Options for {@link runBatches}. */
export interface RunBatchesOptions {
  topics: readonly string[]
  /** Where a group without committed offsets starts. Default `true` (the topics are replayable). */
  fromBeginning?: boolean
  /** Called per fetched batch of one partition; see kafkajs's `eachBatch`. */
  eachBatch: (payload: EachBatchPayload) => Promise<void>
  /** Default `true`: the batch's last offset is resolved when `eachBatch` returns. */
  eachBatchAutoResolve?: boolean
  /** Default 1. */
  partitionsConsumedConcurrently?: number
  /**
   * Default `true`: kafkajs commits resolved offsets. With `false` the caller commits
   * (`consumer.commitOffsets`), and resolving an offset only moves the fetch position.
   */
  autoCommit?: boolean
  /** The consumer's group, named in a `KAFKA_NOT_AUTHORIZED` refusal. */
  groupId?: string
  /** Told when the consumer crashes; `restart` says whether kafkajs restarts it by itself. */
  onCrash?: (error: AppError, restart: boolean) => void
}

/**
 * Connects `consumer`, subscribes it to `topics` and starts the `eachBatch` loop; resolves once the
 * loop is started. Stop it with `consumer.disconnect()`, which commits resolved offsets (unless
 * `autoCommit` is false).
 *
 * @throws AppError `KAFKA_UNAVAILABLE`, `KAFKA_AUTH_FAILED` or `KAFKA_REQUEST_FAILED`.
 */
export async function runBatches(consumer: Consumer, options: RunBatchesOptions): Promise<void> {
  const resource = {
    topics: options.topics,
    ...(options.groupId === undefined ? {} : { group: options.groupId }),
  }
  if (options.onCrash) {
    const onCrash = options.onCrash
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      onCrash(toKafkaError(payload.error, 'Consuming', resource), payload.restart)
    })
  }
  try {
    await consumer.connect()
    await consumer.subscribe({
      topics: [...options.topics],
      fromBeginning: options.fromBeginning ?? true,
    })
    await consumer.run({
      eachBatchAutoResolve: options.eachBatchAutoResolve ?? true,
      autoCommit: options.autoCommit ?? true,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch: options.eachBatch,
    })
  } catch (error) {
    throw toKafkaError(error, `Starting a consumer of ${options.topics.join(', ')}`, resource)
  }
}
