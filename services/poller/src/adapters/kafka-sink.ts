import { encodePollerCheckpoint, topics, type EncodeOptions } from '@wolkvox-chat-stream/events'
import type { EventProducer, OutgoingRecord } from '@wolkvox-chat-stream/kafka'
import type { Checkpoint, EventSink } from '../core/ports.js'

/**
 * Kafka for the core: events keyed by `conn_id`, dead letters keyed `server|conn_id` with the
 * reason in headers, checkpoints keyed `server|report` on the compacted checkpoint topic. Every
 * call resolves only once the cluster acknowledged every record (acks=all).
 */
export function createKafkaSink(options: {
  producer: EventProducer
  server: string
  report: string
  /** How checkpoints are encoded (registry mode: `{ registryId }`); default single-object. */
  checkpointEncoding?: EncodeOptions
  /**
   * Called once the cluster acknowledged a checkpoint, with where it landed; awaited, so it may
   * refuse (throw) before the watermark moves. See adapters/checkpoint-log.ts.
   */
  onCheckpointLanded?: (
    checkpoint: Checkpoint,
    at: { partition: number; offset: number },
  ) => Promise<void>
}): EventSink {
  return {
    publish: async (events, deadLetters) => {
      const records: OutgoingRecord[] = events.map((e) => ({
        topic: topics.chatMessage.name,
        key: e.key,
        value: e.value,
      }))
      for (const d of deadLetters) {
        records.push({
          topic: topics.pollerDlq.name,
          key: d.key,
          value: d.value,
          headers: { 'dlq.error.code': d.reason, 'dlq.source': 'wolkvox-poller' },
        })
      }
      if (records.length > 0) await options.producer.send(records)
    },
    checkpoint: async (c) => {
      const value = encodePollerCheckpoint(
        {
          server: options.server,
          report: options.report,
          watermark: new Date(c.watermarkMs),
          window_start: new Date(c.window.fromMs),
          window_end: new Date(c.window.toMs),
          fetched: c.fetched,
          published: c.published,
          duplicates: c.duplicates,
          dead_lettered: c.deadLettered,
          splits: c.splits,
          fence: c.fence,
          checkpointed_at: new Date(c.atMs),
        },
        options.checkpointEncoding,
      )
      const [written] = await options.producer.send([
        { topic: topics.pollerCheckpoint.name, key: `${options.server}|${options.report}`, value },
      ])
      if (options.onCheckpointLanded && written)
        await options.onCheckpointLanded(c, {
          partition: written.partition,
          offset: Number(written.baseOffset),
        })
    },
  }
}
