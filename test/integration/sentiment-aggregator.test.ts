/*
 * The sentiment aggregator on the real broker and a private redis-server (the test flushes it):
 * aggregates equal a reference computed from the simulator's chats by the written rules, through
 * duplicates, late events, feelings filled late (a message first counted from its text, then from
 * Wolkvox's feeling), a replay from the start, three instances and a Redis flush; the output
 * topic's latest record per key equals the HTTP answers, upstream and text figures alike.
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
  referenceTextSentiment,
  type Snapshot,
} from '../support/sentiment-reference.js'
import { sentimentEventsWithLateData } from '../support/sentiment-events.js'
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
  // A third of the chats are first read before Wolkvox filled their feeling (as the simulator
  // serves late data): their messages come first without it, then again with it.
  const { events: all, firstReads } = sentimentEventsWithLateData(code, { lateShare: 0.3 })
  const firstReadOf = new Map(firstReads.map((e) => [e.event_id, e]))

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
  // On time, as first read; the revisions with the late values come after.
  const onTimeFirst = onTime.map((e) => firstReadOf.get(e.event_id) ?? e)
  const feelingsLate = onTime.filter((e) => firstReadOf.has(e.event_id))

  type Counts = Record<string, number>
  /** Messages the rule counts from text, per scored sentiment (the scorer applied here). */
  const textCounts = (events: readonly ChatMessage[]): Counts => {
    const counts: Counts = {}
    for (const e of events) {
      const text = referenceTextSentiment(e)
      if (text !== undefined) counts[text] = (counts[text] ?? 0) + 1
    }
    return counts
  }
  /** The text counts of all agents' totals, as answered (zeros left out). */
  const answeredText = (snapshot: Snapshot): Counts => {
    const counts: Counts = {}
    for (const { totals } of snapshot.agents) {
      for (const [s, n] of Object.entries(totals.messages_by_text_sentiment ?? {}))
        if (n !== 0) counts[s] = (counts[s] ?? 0) + n
    }
    return counts
  }
  const sum = (counts: Counts): number => Object.values(counts).reduce((a, b) => a + b, 0)
  /** `wolkvox_sentiment_text_scored_total` of a running instance, per sentiment (zeros left out). */
  const scoredMetric = async (service: ConsumerService): Promise<Counts> => {
    const text = await (await fetch(`http://127.0.0.1:${service.httpPort()!}/metrics`)).text()
    const counts: Counts = {}
    for (const line of text.split('\n')) {
      const match = /^wolkvox_sentiment_text_scored_total\{.*sentiment="(\w+)".*\} (\d+)$/u.exec(
        line,
      )
      if (match && match[2] !== '0') counts[match[1]!] = Number(match[2])
    }
    return counts
  }
  /** Adds counts. */
  const plus = (...list: Counts[]): Counts => {
    const out: Counts = {}
    for (const counts of list)
      for (const [s, n] of Object.entries(counts)) out[s] = (out[s] ?? 0) + n
    return out
  }

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
    expect(feelingsLate.length).toBeGreaterThan(20)
    // Duplicates at new offsets (a re-publish) must change nothing.
    await produceEvents(kafka, input, [...onTimeFirst, ...onTimeFirst.slice(0, 80)])
    const one = await start(uniqueName('sentiment-one'), output)
    const before = await settle(one, referenceSnapshot(onTimeFirst, code))
    expect(before.agents.length).toBeGreaterThan(1)
    // Counted from text: exactly the messages the rule selects, as the scorer scores them.
    expect(answeredText(before)).toEqual(textCounts(onTimeFirst))
    expect(sum(answeredText(before))).toBeGreaterThan(50)
    await topicSettles(output, before.windows)

    // Late events update their (old) windows, and the output topic with them.
    await produceEvents(kafka, input, lateEvents)
    const after = await settle(one, referenceSnapshot([...onTimeFirst, ...lateEvents], code))
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

    // Feelings filled late: the new revisions move their messages from the text counts to the
    // upstream ones (those still without a feeling stay counted from text).
    await produceEvents(kafka, input, feelingsLate)
    const final = await settle(one, referenceSnapshot(all, code))
    expect(answeredText(final)).toEqual(textCounts(all))
    expect(sum(answeredText(final))).toBeLessThan(sum(answeredText(after)))
    const unknownOf = (s: Snapshot): number =>
      s.agents.reduce((total, a) => total + a.totals.messages_by_sentiment.unknown!, 0)
    expect(unknownOf(final)).toBeLessThan(unknownOf(after))
    await topicSettles(output, final.windows)
    // The counter: every revision counted from text once, duplicates and takebacks not.
    const expectedScored = plus(
      textCounts(onTimeFirst),
      textCounts(lateEvents),
      textCounts(feelingsLate),
    )
    await waitFor(async () => isDeepStrictEqual(await scoredMetric(one), expectedScored), {
      what: 'wolkvox_sentiment_text_scored_total to count every revision scored',
    }).catch(async (error: unknown) => {
      expect(await scoredMetric(one)).toEqual(expectedScored)
      throw error
    })
    console.info(
      `text-scored messages (agents' totals): first reads ${JSON.stringify(answeredText(before))}, ` +
        `after late events ${JSON.stringify(answeredText(after))}, after late feelings ` +
        `${JSON.stringify(answeredText(final))} (${feelingsLate.length} revisions, ` +
        `${sum(answeredText(after)) - sum(answeredText(final))} fewer from text); ` +
        `wolkvox_sentiment_text_scored_total ${JSON.stringify(await scoredMetric(one))}`,
    )

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
    expect(await answers(again)).toEqual(final)

    // Three instances equal one: the same answers and the same latest records.
    const trioOutput = uniqueName('sentiment-output-trio')
    const trioName = uniqueName('sentiment-trio')
    const first = await start(trioName, trioOutput)
    const trio = [
      first,
      ...(await Promise.all([start(trioName, trioOutput), start(trioName, trioOutput)])),
    ]
    await settle(trio[2]!, final)
    await topicSettles(trioOutput, final.windows)
    for (const member of trio) await stop(member)

    // Redis loses everything: the state is rebuilt by replay, to the same figures and records.
    const rebuildsBefore = again.status().stats.rebuilds
    await redis.flushall()
    await waitFor(() => again.status().stats.rebuilds > rebuildsBefore, {
      what: 'the rebuild to start',
    })
    await waitFor(() => again.ready, { what: 'the rebuild to end' })
    await settle(again, final)
    await topicSettles(output, final.windows)
  })
})
