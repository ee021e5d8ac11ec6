import { randomBytes } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { AppError } from '@wolkvox-chat-stream/errors'
import { toKafkaError } from './errors.js'

/** A record read by {@link readTopicToEnd}, with its partition. */
export type ReadRecord = KafkaMessage & { partition: number }

/**
 * Every record of `topic` from the beginning to its end offsets at call time: for small or
 * compacted topics (checkpoints) and for tests. Reads through a throwaway consumer group that
 * commits nothing and is deleted afterwards.
 * @throws AppError `KAFKA_UNAVAILABLE` and friends (see `toKafkaError`), also when the end is not
 *   reached within `timeoutMs` (default 60 s).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  options: { timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const admin = kafka.admin()
  const groupId = `wolkvox-reader-${randomBytes(6).toString('hex')}`
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 20 * 1024 * 1024,
    // A crash fails the read (the caller retries); kafkajs must not restart a consumer the finally
    // below has disconnected, or its restart timer keeps the process alive after everything closed.
    retry: { restartOnFailure: () => Promise.resolve(false) },
  })
  try {
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(topic)
    const remaining = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    )
    const out: ReadRecord[] = []
    if (remaining.size === 0) return out
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            // Not reaching the end in time is a cluster that is slow or short of replicas (the
            // partition has no leader, or fewer in sync than its minimum): try again later.
            new AppError(
              'KAFKA_UNAVAILABLE',
              `reading ${topic} did not reach its end within ${timeoutMs} ms`,
              { details: { topic, partitions: [...remaining.keys()] } },
            ),
          ),
        timeoutMs,
      )
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            const end = remaining.get(batch.partition)
            for (const message of batch.messages) {
              if (end !== undefined && Number(message.offset) < end) {
                out.push({ ...message, partition: batch.partition })
              }
              if (end !== undefined && Number(message.offset) + 1 >= end) {
                remaining.delete(batch.partition)
              }
            }
            if (remaining.size === 0) {
              clearTimeout(timer)
              resolve()
            }
            return Promise.resolve()
          },
        })
        .catch(reject)
    })
    return out
  } catch (error) {
    throw toKafkaError(error, `reading ${topic}`, { topics: [topic] })
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
  }
}
