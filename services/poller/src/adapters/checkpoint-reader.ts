import { randomBytes } from 'node:crypto'
import { decodePollerCheckpoint, topics } from '@wolkvox-chat-stream/events'
import { toKafkaError, type Kafka } from '@wolkvox-chat-stream/kafka'
import type { WatermarkRecovery } from '../core/poll-operation.js'

/**
 * Recovers a watermark from the compacted checkpoint topic: reads it from the beginning to its
 * end offsets and keeps the newest checkpoint of `server|report`. Used only when Redis has no
 * watermark (a new Redis, a flush, a failover): Redis holds nothing that Kafka cannot rebuild.
 */
export function createCheckpointRecovery(options: {
  kafka: Kafka
  server: string
  report: string
  timeoutMs?: number
}): WatermarkRecovery {
  const key = `${options.server}|${options.report}`
  const topic = topics.pollerCheckpoint.name
  return {
    fromCheckpoints: async () => {
      const admin = options.kafka.admin()
      const groupId = `wolkvox-poller-recovery-${randomBytes(6).toString('hex')}`
      const consumer = options.kafka.consumer({ groupId, maxWaitTimeInMs: 200 })
      try {
        await admin.connect()
        const ends = await admin.fetchTopicOffsets(topic)
        const remaining = new Map(
          ends
            .filter((p) => Number(p.high) > Number(p.low))
            .map((p) => [p.partition, Number(p.high)]),
        )
        if (remaining.size === 0) return null
        let latest: number | null = null
        await consumer.connect()
        await consumer.subscribe({ topic, fromBeginning: true })
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(
                  `reading ${topic} did not reach its end within ${options.timeoutMs ?? 60_000} ms`,
                ),
              ),
            options.timeoutMs ?? 60_000,
          )
          consumer
            .run({
              autoCommit: false,
              eachMessage: ({ partition, message }) => {
                if (message.key?.toString() === key && message.value) {
                  // Newest by watermark, not by offset: a stale writer can never move it back.
                  const watermark = decodePollerCheckpoint(message.value).watermark.getTime()
                  if (latest === null || watermark > latest) latest = watermark
                }
                if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0))
                  remaining.delete(partition)
                if (remaining.size === 0) {
                  clearTimeout(timer)
                  resolve()
                }
                return Promise.resolve()
              },
            })
            .catch(reject)
        })
        return latest
      } catch (error) {
        throw toKafkaError(error)
      } finally {
        await consumer.disconnect().catch(() => undefined)
        await admin.deleteGroups([groupId]).catch(() => undefined)
        await admin.disconnect().catch(() => undefined)
      }
    },
  }
}
