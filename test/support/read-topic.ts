import { randomBytes } from 'node:crypto'
import type { Kafka, KafkaMessage } from '@wolkvox-chat-stream/kafka'

/** Every record of `topic` from the beginning to its end offsets at call time, with its partition. */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  timeoutMs = 60_000,
): Promise<(KafkaMessage & { partition: number })[]> {
  const admin = kafka.admin()
  await admin.connect()
  const groupId = `test-reader-${randomBytes(6).toString('hex')}`
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 20 * 1024 * 1024,
  })
  try {
    const ends = await admin.fetchTopicOffsets(topic)
    const remaining = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    )
    const out: (KafkaMessage & { partition: number })[] = []
    if (remaining.size === 0) return out
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), timeoutMs)
      consumer
        .run({
          autoCommit: false,
          eachBatch: ({ batch }) => {
            for (const message of batch.messages) {
              const end = remaining.get(batch.partition)
              if (end !== undefined && Number(message.offset) < end)
                out.push({ ...message, partition: batch.partition })
              if (end !== undefined && Number(message.offset) + 1 >= end)
                remaining.delete(batch.partition)
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
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
  }
}
