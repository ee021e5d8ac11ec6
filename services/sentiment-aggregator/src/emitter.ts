/*
 * Upserts changed windows to the output topic. The apply script marks each changed window in the
 * partition's dirty hash (atomically with the counts); after a chunk is stored the emitter reads
 * the partition's dirty windows, produces their merged figures, reads them again and produces
 * again until they are stable (so the last record per key is the final state even when several
 * instances emit the same window), then clears each dirty mark only if no change landed meanwhile.
 * A crash or a failed produce leaves the marks: the next chunk or the sweep emits them.
 */
import {
  encodeAgentSentiment,
  topicKeys,
  type AgentSentiment,
  type EncodeOptions,
} from '@wolkvox-chat-stream/events'
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import type { Redis } from '@wolkvox-chat-stream/redis'
import type { StateReader } from '@wolkvox-chat-stream/service-kit'
import { clearDirtyScript } from '@wolkvox-chat-stream/service-kit'
import { parseDirtyMember, type WindowFigures } from './aggregation.js'
import { paths, readAgentName, readFigures } from './queries.js'
import { windowAt, type Granularity } from './windows.js'

export interface Emitter {
  /** Emits the dirty windows of `partition`; resolves when they are on the topic and cleared. */
  drain(partition: number): Promise<number>
  /** Drains every partition with state. */
  sweep(): Promise<number>
}

interface Target {
  member: string
  server: string
  agentKey: string
  granularity: Granularity
  startMs: number
}

const MAX_ROUNDS = 5
const PAGE = 2_000

/** An emitter writing to `topic` through `producer`, reading through `reader` and `redis`. */
export function createEmitter(options: {
  topic: string
  producer: EventProducer
  reader: StateReader
  redis: Redis
  zone: string
  /**
   * The output's encoding: `version` (SENTIMENT_AGENT_SENTIMENT_VERSION; v1 leaves the text figures
   * out) and, in registry mode, `registryId`.
   */
  encoding?: EncodeOptions
  now?: () => number
}): Emitter {
  const { topic, producer, reader, redis, zone } = options
  const encoding = options.encoding ?? {}
  const now = options.now ?? Date.now

  const figuresOf = async (
    reader: StateReader,
    targets: readonly Target[],
  ): Promise<WindowFigures[]> => {
    const byAgent = new Map<string, number[]>()
    targets.forEach((t, i) => {
      const id = `${t.server}|${t.agentKey}`
      byAgent.set(id, [...(byAgent.get(id) ?? []), i])
    })
    const out = new Array<WindowFigures>(targets.length)
    await Promise.all(
      [...byAgent.values()].map(async (indexes) => {
        const first = targets[indexes[0]!]!
        const figures = await readFigures(
          reader,
          first.server,
          first.agentKey,
          indexes.map((i) => ({
            tag: targets[i]!.granularity === 'hour' ? 'h' : 'd',
            startMs: targets[i]!.startMs,
          })),
        )
        indexes.forEach((i, n) => (out[i] = figures[n]!))
      }),
    )
    return out
  }

  const names = async (
    reader: StateReader,
    targets: readonly Target[],
  ): Promise<Map<string, string>> => {
    const out = new Map<string, string>()
    const agents = new Map(targets.map((t) => [`${t.server}|${t.agentKey}`, t]))
    await Promise.all(
      [...agents.entries()].map(async ([id, t]) => {
        out.set(id, (await readAgentName(reader, t.server, t.agentKey)) ?? t.agentKey)
      }),
    )
    return out
  }

  const emit = async (reader: StateReader, targets: readonly Target[]): Promise<void> => {
    let pending = [...targets]
    let [figures, agentNames] = await Promise.all([
      figuresOf(reader, pending),
      names(reader, pending),
    ])
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) agentNames = await names(reader, pending)
      const updatedAt = new Date(now())
      await producer.send(
        pending.map((t, i) => {
          const f = figures[i]!
          const window = windowAt(t.granularity, t.startMs, zone)
          const value: AgentSentiment = {
            server: t.server,
            agent_key: t.agentKey,
            agent_name: agentNames.get(`${t.server}|${t.agentKey}`) ?? t.agentKey,
            granularity: t.granularity,
            window_start: new Date(window.startMs),
            window_end: new Date(window.endMs),
            messages_by_sentiment: f.messages_by_sentiment,
            messages_by_sender: f.messages_by_sender,
            conversations: f.conversations,
            mean_score: f.mean_score,
            conversations_ending_negative: f.conversations_ending_negative,
            updated_at: updatedAt,
            // Always written by this version (zeros when none): null only in records read from v1.
            messages_by_text_sentiment: f.messages_by_text_sentiment,
            text_mean_score: f.text_mean_score,
          }
          return {
            topic,
            key: topicKeys.agentSentiment(value),
            value: encodeAgentSentiment(value, encoding),
          }
        }),
      )
      // Read again after the acknowledgement: a window another instance changed meanwhile is sent
      // again, so the latest record of each key is never older than the state.
      const again = await figuresOf(reader, pending)
      const changed = pending.flatMap((t, i) =>
        JSON.stringify(again[i]) === JSON.stringify(figures[i]) ? [] : [i],
      )
      if (round >= MAX_ROUNDS) return // still changing: the writer's own drain follows
      pending = changed.map((i) => pending[i]!)
      figures = changed.map((i) => again[i]!)
    }
  }

  const drainWith = async (reader: StateReader, partition: number): Promise<number> => {
    const key = reader.key(partition, paths.dirty)
    let total = 0
    // Bounded: marks that keep changing (another instance writing this partition during a
    // rebalance) are left to that writer's own drain.
    for (let pass = 0; pass < 20; pass++) {
      const [, flat] = await redis.hscan(key, '0', 'COUNT', PAGE)
      if (flat.length === 0) return total
      const targets: Target[] = []
      const seen: string[] = []
      for (let i = 0; i < flat.length; i += 2) {
        const member = flat[i]!
        seen.push(member, flat[i + 1]!)
        const parsed = parseDirtyMember(member)
        if (parsed !== undefined) targets.push({ member, ...parsed })
      }
      await emit(reader, targets)
      await redis.eval(clearDirtyScript, 1, key, ...seen)
      total += targets.length
      // HSCAN from 0 again: what was cleared is gone, what changed meanwhile is still there.
      if (flat.length < PAGE) {
        const left = await redis.hlen(key)
        if (left === 0) return total
      }
    }
    return total
  }

  return {
    drain: async (partition) =>
      drainWith(reader.withPartitions(await reader.partitions()), partition),
    async sweep() {
      // The partitions are checked once per sweep, not for every read.
      const partitions = await reader.partitions()
      const pinned = reader.withPartitions(partitions)
      let total = 0
      for (const partition of partitions) total += await drainWith(pinned, partition)
      return total
    },
  }
}
