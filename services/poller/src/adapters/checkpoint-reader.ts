import { decodePollerCheckpoint, topics } from '@wolkvox-chat-stream/events'
import { readTopicToEnd, type Kafka } from '@wolkvox-chat-stream/kafka'
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
      const records = await readTopicToEnd(options.kafka, topic, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      })
      let latest: number | null = null
      for (const record of records) {
        if (record.key?.toString() !== key || !record.value) continue
        // Newest by watermark, not by offset: a stale writer can never move it back.
        const watermark = decodePollerCheckpoint(record.value).watermark.getTime()
        if (latest === null || watermark > latest) latest = watermark
      }
      return latest
    },
  }
}
