/*
 * Messages that change after they were published (issue 27), end to end on the private broker and
 * Redis: the simulator fills `feeling` (and for some chats `customer_id`) only some seconds after a
 * chat closed, the poller's `run` polls live and sweeps back, both consumers run. The topic's latest
 * revision of every message of the settled range equals the simulator's final truth, an unchanged
 * re-read publishes nothing, and the aggregates and classifications equal the reference computed
 * from the latest revisions, also after a replay and a rebuild.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import {
  createTramiteClassifier,
  shippedRulesFile,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  chatMessagesOf,
  newServerCode,
  pollerEnv,
  truthMessages,
} from '../support/poller-harness.js'
import { getJson as getPollerJson, startPoller } from '../support/poller-service-harness.js'
import { httpSnapshot, referenceSnapshot } from '../support/sentiment-reference.js'
import {
  expectedCounts,
  expectedRecords,
  getJson,
  latest,
  rulesOf,
  topicRecords,
} from '../support/tramite-reference.js'
import { uniqueName, waitFor, waitForEqual } from '../support/wait-for.js'

const TOKEN = 'canary-late-data-token-3b7e'
const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')
const LATE_MS = 12_000
const SWEEP_MS = 3_000
const SETTLE_MS = 3_000
const RUN_MS = 45_000

/** The latest revision of each event_id on the topic: the record with the latest polled_at. */
function latestRevisions(events: readonly ChatMessage[]): Map<string, ChatMessage> {
  const out = new Map<string, ChatMessage>()
  for (const e of events) {
    const seen = out.get(e.event_id)
    if (seen === undefined || e.polled_at.getTime() >= seen.polled_at.getTime())
      out.set(e.event_id, e)
  }
  return out
}

/** The upstream values of each truth message outside its identity, by event_id. */
function finalValues(
  truth: Parameters<typeof truthMessages>[0],
  server: string,
): Map<string, Record<string, string | null>> {
  return new Map(
    truthMessages(truth, server).map(({ id, message: m }) => [
      id,
      {
        feeling: m.feeling ?? null,
        customer_id: m.customer_id ?? null,
        customer_phone: m.customer_phone ?? null,
        to_name: m.to_name ?? null,
        channel: m.channel ?? null,
      },
    ]),
  )
}

const valuesOf = (e: ChatMessage): Record<string, string | null> => ({
  feeling: e.feeling,
  customer_id: e.customer_id,
  customer_phone: e.customer_phone,
  to_name: e.to_name,
  channel: e.channel,
})

describe('late upstream data (a feeling recognised after the first read)', () => {
  let sim: RunningSimulator
  const server = newServerCode()
  const rules = rulesOf(shippedRulesFile)
  const running: (ConsumerService | TramiteClassifier)[] = []
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'late-data-test' })
  const consumerEnv = {
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    CONSUMER_SESSION_TIMEOUT: '6s',
    CONSUMER_HEARTBEAT_INTERVAL: '1s',
    CONSUMER_RETRY_MAX_BACKOFF: '1s',
  }
  const aggregator = async (name: string) => {
    const service = createSentimentAggregator({
      name,
      outputTopic: `${name}-output`,
      logger: createLogger({ name, level: 'silent' }),
      env: { ...consumerEnv, SENTIMENT_SWEEP_INTERVAL: '1s' },
    })
    running.push(service)
    await service.start()
    return service
  }
  const classifier = async (name: string) => {
    const service = createTramiteClassifier({
      name,
      logger: createLogger({ name, level: 'silent' }),
      env: {
        ...consumerEnv,
        CLASSIFIER_OUTPUT_TOPIC: `${name}-output`,
        CLASSIFIER_SWEEP_INTERVAL: '500ms',
      },
    })
    running.push(service)
    await service.start()
    return service
  }

  beforeAll(async () => {
    // Many chats closing while the test runs, every one with its data late.
    sim = await startSimulator({
      tokens: [TOKEN],
      chatsPerHour: 900,
      seed: 97,
      lateDataMs: LATE_MS,
    })
  })

  afterAll(async () => {
    for (const s of running) await s.stop().catch(() => undefined)
    await sim?.close()
  })

  it('publishes the late values again and every consumer ends on the latest revision', async () => {
    const sentimentName = uniqueName('late-sentiment')
    const tramiteName = uniqueName('late-tramite')
    const agg = await aggregator(sentimentName)
    const cls = await classifier(tramiteName)

    const startMs = Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000
    const port = await freePort()
    const poller = startPoller(
      ['run'],
      pollerEnv({
        server,
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers: brokers,
        redisUrl,
        extra: {
          POLL_START: new Date(startMs).toISOString(),
          POLL_INTERVAL: '1s',
          POLL_SETTLE_LAG: `${SETTLE_MS / 1000}s`,
          POLL_LOOKBACK: '5s',
          POLL_SWEEP_INTERVAL: `${SWEEP_MS / 1000}s`,
          POLL_SWEEP_LOOKBACK: '5m',
          POLL_LOCK_TTL: '3s',
          HTTP_PORT: String(port),
        },
      }),
    )
    let stopMs: number
    try {
      await waitFor(
        async () =>
          (
            await getPollerJson<{ operations: { watermark: string | null }[] }>(
              `http://127.0.0.1:${port}/status`,
            ).catch(() => ({ operations: [] }))
          ).operations[0]?.watermark != null,
        { what: 'the poller to cover its backlog', timeoutMs: 60_000 },
      )
      await new Promise((resolve) => setTimeout(resolve, RUN_MS))
      stopMs = Date.now()
    } finally {
      poller.kill('SIGTERM')
      await poller.exited
    }

    const events = await chatMessagesOf(brokers, server)
    const newest = latestRevisions(events)
    // Chats that closed early enough for a sweep after their late data: the topic holds their
    // final values. The truth selects chats by their closing time.
    const cutMs = stopMs - LATE_MS - 2 * SWEEP_MS - SETTLE_MS - 2_000
    const truth = sim.truth({ from: new Date(startMs), to: new Date(cutMs) })
    const final = finalValues(truth, server)
    expect(final.size).toBeGreaterThan(200)
    const wrong = [...final].filter(([id, want]) => {
      const got = newest.get(id)
      return got === undefined || !isDeepStrictEqual(valuesOf(got), want)
    })
    expect(wrong.slice(0, 3).map(([id, want]) => ({ id, want, got: newest.get(id) }))).toEqual([])

    // Late data happened, and was corrected by a second publication of the same event_id; an
    // unchanged re-read published nothing: no event_id has two records of one revision.
    const revisionsById = new Map<string, string[]>()
    for (const e of events)
      revisionsById.set(e.event_id, [...(revisionsById.get(e.event_id) ?? []), e.revision])
    const revised = [...revisionsById.values()].filter((r) => r.length > 1)
    expect(revised.length).toBeGreaterThan(20)
    for (const list of revisionsById.values()) expect(new Set(list).size).toBe(list.length)
    // The first publication of a revised message had no feeling yet.
    const firstOf = new Map<string, ChatMessage>()
    for (const e of events) if (!firstOf.has(e.event_id)) firstOf.set(e.event_id, e)
    const feelingLate = [...newest.values()].filter(
      (e) =>
        revisionsById.get(e.event_id)!.length > 1 && e.feeling !== firstOf.get(e.event_id)!.feeling,
    )
    expect(feelingLate.length).toBeGreaterThan(0)

    // The consumers: exactly what the latest revisions say.
    const latestEvents = [...newest.values()]
    const reference = referenceSnapshot(latestEvents, server)
    const answersOf = (service: ConsumerService) => httpSnapshot(service.httpPort()!, server)
    const settle = (service: ConsumerService, what: string) =>
      waitForEqual(() => answersOf(service), reference, { what, timeoutMs: 60_000 })
    await settle(agg, 'the aggregator to answer the latest revisions')
    expect(agg.status().stats.corrected).toBeGreaterThan(0)

    const complete = new Map(
      [...expectedRecords(latestEvents, rules)].filter(([, record]) => record.complete),
    )
    const counts = expectedCounts(complete.values())
    const countsOf = async (service: TramiteClassifier) =>
      (await getJson(service.httpPort()!, `/operations/${server}/tramites`)).body.counts
    const settleCounts = (service: TramiteClassifier, what: string) =>
      waitForEqual(() => countsOf(service), counts, { what, timeoutMs: 60_000 })
    await settleCounts(cls, 'the classifier to count the latest revisions')
    const emitted = latest(await topicRecords(kafka, `${tramiteName}-output`, server))
    for (const [key, record] of complete) expect(emitted.get(key)).toEqual(record)

    // A replay (the group sent back to the start) and a rebuild (new services from the topic).
    await agg.stop()
    const admin = kafka.admin()
    await admin.connect()
    await admin.resetOffsets({
      groupId: sentimentName,
      topic: 'wolkvox.chat.message.v1',
      earliest: true,
    })
    await admin.disconnect()
    const replayed = await aggregator(sentimentName)
    await settle(replayed, 'the replay to answer the latest revisions')
    const rebuilt = await aggregator(uniqueName('late-sentiment-rebuilt'))
    await settle(rebuilt, 'the rebuild to answer the latest revisions')
    const reclassified = await classifier(uniqueName('late-tramite-rebuilt'))
    await settleCounts(reclassified, 'the classifier rebuild to count the latest revisions')
  })
})
