/*
 * The sentiment aggregator on the real broker and a private redis-server (the test flushes it):
 * aggregates equal a reference computed from the simulator's chats by the written rules, through
 * duplicates, late events, a replay from the start, three instances and a Redis flush; the output
 * topic's latest record per key equals the HTTP answers.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { decodeAgentSentiment, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { produceEvents } from '../support/chat-events.js'
import { readTopicToEnd } from '../support/read-topic.js'
import {
  httpSnapshot,
  latestWindows,
  referenceSnapshot,
  type Snapshot,
} from '../support/sentiment-reference.js'
import { sentimentEvents } from '../support/sentiment-events.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')
const silent = createLogger({ name: 'sentiment-test', level: 'silent' })

describe('the sentiment aggregator', () => {
  let server: RedisServer
  let redis: Redis
  let kafka: Kafka
  let admin: Admin
  const running: ConsumerService[] = []
  const code = String(100_000 + Math.floor(Math.random() * 900_000))
  const input = uniqueName('sentiment-input')
  const output = uniqueName('sentiment-output')
  const all = sentimentEvents(code)

  // Late events: the part of a chat that lies in the hour of its last message, for chats that
  // span two hours (so the conversation moves to a later window when they arrive), and one middle
  // message of a few other chats.
  const HOUR = 3_600_000
  const hourOf = (e: ChatMessage): number => Math.floor(e.sent_at.getTime() / HOUR)
  const byChat = new Map<string, ChatMessage[]>()
  for (const e of all) byChat.set(e.conn_id, [...(byChat.get(e.conn_id) ?? []), e])
  const late = new Set<string>()
  let spanning = 0
  let middles = 0
  for (const list of byChat.values()) {
    const sorted = [...list].sort((a, b) => a.sent_at.getTime() - b.sent_at.getTime())
    const lastHour = hourOf(sorted.at(-1)!)
    if (hourOf(sorted[0]!) !== lastHour && spanning < 15) {
      spanning++
      for (const e of sorted) if (hourOf(e) === lastHour) late.add(e.event_id)
    } else if (sorted.length >= 3 && middles < 10) {
      middles++
      late.add(sorted[1]!.event_id)
    }
  }
  const onTime = all.filter((e) => !late.has(e.event_id))
  const lateEvents = all.filter((e) => late.has(e.event_id))

  const start = async (
    name: string,
    out: string,
  ): Promise<ConsumerService & { outputTopic: string }> => {
    const service = createSentimentAggregator({
      name,
      outputTopic: out,
      logger: silent,
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: server.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        CONSUMER_INPUT_TOPIC: input,
        CONSUMER_SESSION_TIMEOUT: '6s',
        CONSUMER_HEARTBEAT_INTERVAL: '1s',
        CONSUMER_EPOCH_CHECK_INTERVAL: '300ms',
        CONSUMER_RETRY_MAX_BACKOFF: '1s',
        CONSUMER_SHUTDOWN_TIMEOUT: '10s',
        SENTIMENT_SWEEP_INTERVAL: '1s',
      },
    }) as ConsumerService & { outputTopic: string }
    running.push(service)
    await service.start()
    return service
  }

  const stop = async (service: ConsumerService): Promise<void> => {
    running.splice(running.indexOf(service), 1)
    await service.stop()
  }

  const answers = (service: ConsumerService): Promise<Snapshot> =>
    httpSnapshot(service.httpPort()!, code)

  /** Waits until the HTTP answers equal `expected`, then returns them. */
  const settle = async (service: ConsumerService, expected: Snapshot): Promise<Snapshot> =>
    waitFor(
      async () => {
        const got = await answers(service)
        return isDeepStrictEqual(got, expected) ? got : undefined
      },
      { timeoutMs: 30_000, what: 'the HTTP answers to equal the reference' },
    ).catch(async (error: unknown) => {
      // Show the difference.
      expect(await answers(service)).toEqual(expected)
      throw error
    })

  const topicWindows = async (topic: string): Promise<Snapshot['windows']> => {
    const records = await readTopicToEnd(kafka, topic)
    return latestWindows(
      records.map((r) => ({ key: r.key!.toString('utf8'), value: decodeAgentSentiment(r.value!) })),
      code,
    )
  }

  /** Waits until the output topic's latest record per key equals `expected` windows. */
  const topicSettles = (topic: string, expected: Snapshot['windows']): Promise<unknown> =>
    waitFor(async () => isDeepStrictEqual(await topicWindows(topic), expected), {
      timeoutMs: 30_000,
      what: `the latest records of ${topic} to equal the HTTP answers`,
    }).catch(async (error: unknown) => {
      expect(await topicWindows(topic)).toEqual(expected)
      throw error
    })

  beforeAll(async () => {
    server = await startRedisServer()
    redis = createRedis(server.url, { name: 'sentiment-test' })
    await waitUntilReady(redis)
    kafka = createKafkaClient({ brokers: [brokers], clientId: 'sentiment-test' })
    admin = kafka.admin()
    await admin.connect()
    await createTopic(admin, input, 6)
  })

  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop().catch(() => undefined)))
    await admin?.disconnect()
    await redis?.quit()
    await server?.stop()
  })

  it('aggregates exactly, through duplicates, late events, replays, three instances and a flush', async () => {
    expect(spanning).toBeGreaterThan(5)
    // Duplicates at new offsets (a re-publish) must change nothing.
    await produceEvents(kafka, input, [...onTime, ...onTime.slice(0, 80)])
    const one = await start(uniqueName('sentiment-one'), output)
    const before = await settle(one, referenceSnapshot(onTime, code))
    expect(before.agents.length).toBeGreaterThan(1)
    await topicSettles(output, before.windows)

    // Late events update their (old) windows, and the output topic with them.
    await produceEvents(kafka, input, lateEvents)
    const after = await settle(one, referenceSnapshot(all, code))
    const changed = Object.keys(after.windows).filter(
      (id) => !isDeepStrictEqual(after.windows[id], before.windows[id]),
    )
    expect(changed.length).toBeGreaterThan(0)
    // Some conversation moved out of the window of its former last message.
    expect(
      changed.some(
        (id) =>
          (after.windows[id]?.figures.conversations ?? 0) <
          (before.windows[id]?.figures.conversations ?? 0),
      ),
    ).toBe(true)
    expect(after.agents.some((a) => a.totals.conversations_ending_negative > 0)).toBe(true)
    expect(
      Object.values(after.windows).some((w) => (w.figures.messages_by_sentiment.unknown ?? 0) > 0),
    ).toBe(true)
    await topicSettles(output, after.windows)

    // Re-consuming from the start changes nothing.
    await stop(one)
    await admin.resetOffsets({ groupId: one.name, topic: input, earliest: true })
    const again = await start(one.name, output)
    const ends = await admin.fetchTopicOffsets(input)
    await waitFor(
      async () => {
        const [found] = await admin.fetchOffsets({ groupId: one.name, topics: [input] })
        return ends.every(
          (end) =>
            Number(found?.partitions.find((p) => p.partition === end.partition)?.offset) ===
            Number(end.high),
        )
      },
      { what: 'the replay from the start to be committed' },
    )
    expect(again.status().stats.applied).toBe(0)
    expect(await answers(again)).toEqual(after)

    // Three instances equal one: the same answers and the same latest records.
    const trioOutput = uniqueName('sentiment-output-trio')
    const trioName = uniqueName('sentiment-trio')
    const first = await start(trioName, trioOutput)
    const trio = [
      first,
      ...(await Promise.all([start(trioName, trioOutput), start(trioName, trioOutput)])),
    ]
    await settle(trio[2]!, after)
    await topicSettles(trioOutput, after.windows)
    for (const member of trio) await stop(member)

    // Redis loses everything: the state is rebuilt by replay, to the same figures and records.
    const rebuildsBefore = again.status().stats.rebuilds
    await redis.flushall()
    await waitFor(() => again.status().stats.rebuilds > rebuildsBefore, {
      what: 'the rebuild to start',
    })
    await waitFor(() => again.ready, { what: 'the rebuild to end' })
    await settle(again, after)
    await topicSettles(output, after.windows)
  })
})
