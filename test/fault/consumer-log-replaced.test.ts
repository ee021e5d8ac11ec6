/*
 * Fault: the Kafka log is replaced under a Redis that survives (issue 26). The consumers' state in
 * Redis says "applied up to offset N of partition P"; when the topic is deleted and re-created, the
 * broker is replaced (a new cluster id), a log is cut below N, or retention deletes events before
 * they were applied, that state must not silently skip the new log. For the sentiment aggregator
 * and the trámite classifier, each scenario ends with answers equal to the reference computed from
 * the log they read now, or (retention) with the documented error, log line and metric.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  kafkaVersionFromEnv,
  readStackState,
  stackDown,
  stackUp,
  startKafkaBroker,
  startRedisServer,
  type KafkaBroker,
  type RedisServer,
} from '@wolkvox-chat-stream/dev-stack'
import { productTopics, topics, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient, provisionTopics, type Admin } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import {
  createTramiteClassifier,
  shippedRulesFile,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import { produceEvents, wholeChats } from '../support/chat-events.js'
import { expectAnswers, loggedLines, startAggregator } from '../support/fault-pipeline.js'
import { newServerCode } from '../support/poller-harness.js'
import { referenceSnapshot } from '../support/sentiment-reference.js'
import { createTopic } from '../support/topics.js'
import {
  expectedCounts,
  expectedRecords,
  getJson,
  rulesOf,
  type Count,
} from '../support/tramite-reference.js'
import { uniqueName, waitFor, waitForEqual } from '../support/wait-for.js'

const rules = rulesOf(shippedRulesFile)

/** Both consumers of one scenario, on one broker and the file's Redis. */
interface Consumers {
  aggregator: ConsumerService
  classifier: TramiteClassifier
  classifierLog: string[]
}

async function startConsumers(input: {
  brokers: string
  redisUrl: string
  name: string
  topic?: string
}): Promise<Consumers> {
  const inputEnv: Record<string, string> =
    input.topic === undefined ? {} : { CONSUMER_INPUT_TOPIC: input.topic }
  const aggregator = await startAggregator(
    { brokers: input.brokers, redisUrl: input.redisUrl },
    { name: `${input.name}-sentiment`, env: inputEnv },
  )
  const classifierLog: string[] = []
  const name = `${input.name}-tramite`
  const classifier = createTramiteClassifier({
    name,
    logger: createLogger({
      name,
      level: 'warn',
      stream: { write: (line) => classifierLog.push(line) },
    }),
    env: {
      KAFKA_BROKERS: input.brokers,
      REDIS_URL: input.redisUrl,
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      CLASSIFIER_OUTPUT_TOPIC: `${name}-output`,
      CLASSIFIER_SWEEP_INTERVAL: '500ms',
      CONSUMER_SESSION_TIMEOUT: '6s',
      CONSUMER_HEARTBEAT_INTERVAL: '1s',
      CONSUMER_RETRY_MAX_BACKOFF: '1s',
      ...inputEnv,
    },
  })
  await classifier.start()
  return { aggregator, classifier, classifierLog }
}

async function stopConsumers(consumers: Consumers | undefined): Promise<void> {
  if (consumers === undefined) return
  await consumers.aggregator.stop().catch(() => undefined)
  await consumers.classifier.stop().catch(() => undefined)
}

/** Both consumers answer what the reference computes from `events` alone. */
async function expectReference(
  consumers: Consumers,
  server: string,
  events: readonly ChatMessage[],
): Promise<void> {
  await expectAnswers(consumers.aggregator, server, referenceSnapshot(events, server), 90_000)
  const want = expectedCounts(expectedRecords(events, rules).values())
  const port = consumers.classifier.httpPort()!
  const counts = async () =>
    (await getJson(port, `/operations/${server}/tramites`)).body.counts as Count[] | undefined
  await waitForEqual(counts, want, {
    timeoutMs: 90_000,
    what: 'the classifier to count the reference',
  }).catch((error: unknown) => {
    // What the classifier said on the way (its warnings) is what explains a wrong count.
    console.error(
      `[consumer-log-replaced] the classifier's log:\n${consumers.classifierLog.join('')}`,
    )
    throw error
  })
}

async function metricsOf(service: { httpPort(): number | undefined }): Promise<string> {
  return (await fetch(`http://127.0.0.1:${service.httpPort()!}/metrics`)).text()
}

/** The value of a counter line such as `name{labels…} 3`, summed over its series; 0 when absent. */
function counterValue(text: string, name: string, label = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

/** Both consumers rebuilt at least one partition because its state came from another log. */
async function expectRebuiltFromAnotherLog(consumers: Consumers, reasons: RegExp): Promise<void> {
  const services = [consumers.aggregator, consumers.classifier]
  for (const service of services) {
    const text = await metricsOf(service)
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('wolkvox_consumer_rebuilds_total{') && !l.endsWith(' 0'))
    expect(
      lines.some((l) => reasons.test(l)),
      lines.join('\n'),
    ).toBe(true)
  }
  const logs = [loggedLines(consumers.aggregator).join(''), consumers.classifierLog.join('')]
  for (const log of logs) expect(log).toContain('"code":"CONSUMER_LOG_REPLACED"')
}

async function recreateTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.deleteTopics({ topics: [topic], timeout: 30_000 })
  await waitFor(async () => !(await admin.listTopics()).includes(topic), {
    what: `${topic} to be deleted`,
  })
  // The broker may still be removing the old log: retry the creation until it is accepted.
  await waitFor(
    async () => {
      try {
        await createTopic(admin, topic, partitions)
        return true
      } catch {
        return false
      }
    },
    { what: `${topic} to be created again`, timeoutMs: 60_000, intervalMs: 500 },
  )
}

describe('consumer state in Redis outliving the Kafka log it was built from', () => {
  let redis: RedisServer
  let broker: KafkaBroker
  let admin: Admin
  let brokers: string
  const kafka = () => createKafkaClient({ brokers: [brokers], clientId: 'log-replaced-test' })
  let running: Consumers | undefined
  const stackHome = mkdtempSync(join(tmpdir(), 'wcs-stack-'))

  beforeAll(async () => {
    redis = await startRedisServer()
    // Retention is checked every second, so a test topic with a short retention.ms loses its
    // closed segments within seconds.
    broker = await startKafkaBroker({
      version: kafkaVersionFromEnv(),
      properties: { 'log.retention.check.interval.ms': 1000, 'log.segment.delete.delay.ms': 0 },
    })
    brokers = broker.brokers
    admin = kafka().admin()
    await admin.connect()
  })

  afterAll(async () => {
    await stopConsumers(running)
    await admin?.disconnect().catch(() => undefined)
    await broker?.stop()
    if (readStackState(stackHome) !== null) await stackDown({ home: stackHome })
    await redis?.stop()
    rmSync(stackHome, { recursive: true, force: true })
  })

  /**
   * Both consumers build state from `before` on a new topic, stop; the topic is deleted and
   * re-created with `after`; restarted on the same Redis, they must answer the reference of
   * `after` alone, having rebuilt for one of `reasons`.
   */
  const replaceTopic = async (input: {
    partitions: number
    before: (server: string) => ChatMessage[]
    after: (server: string) => ChatMessage[]
    reasons: RegExp
  }): Promise<{ before: ChatMessage[]; after: ChatMessage[] }> => {
    const server = newServerCode()
    const topic = uniqueName('log')
    const name = uniqueName('lr')
    await createTopic(admin, topic, input.partitions)
    const before = input.before(server)
    await produceEvents(kafka(), topic, before)
    running = await startConsumers({ brokers, redisUrl: redis.url, name, topic })
    await expectReference(running, server, before)
    await stopConsumers(running)

    await recreateTopic(admin, topic, input.partitions)
    const after = input.after(server)
    await produceEvents(kafka(), topic, after)
    running = await startConsumers({ brokers, redisUrl: redis.url, name, topic })
    await expectReference(running, server, after)
    await expectRebuiltFromAnotherLog(running, input.reasons)
    await stopConsumers(running)
    running = undefined
    return { before, after }
  }

  it('(a) the topic deleted and re-created with more records: the state is rebuilt from the new log', async () => {
    // More records than were applied: only the record at the applied offset tells the logs apart.
    const { before, after } = await replaceTopic({
      partitions: 2,
      before: (server) => wholeChats(300, 21, server),
      after: (server) => wholeChats(900, 22, server),
      reasons: /reason="(log_replaced|log_truncated)"/u,
    })
    expect(after.length).toBeGreaterThan(before.length + 100)
  })

  it('(c) a log cut below the applied offset (re-created with fewer records): rebuilt, nothing skipped', async () => {
    const { before, after } = await replaceTopic({
      partitions: 1,
      before: (server) => wholeChats(600, 23, server),
      after: (server) => wholeChats(150, 24, server),
      reasons: /reason="log_truncated"/u,
    })
    expect(after.length).toBeLessThan(before.length)
  })

  it('(d) retention deleting events before they were applied: a loud error, a metric, and the rest applied', async () => {
    const server = newServerCode()
    const topic = uniqueName('log-d')
    const name = uniqueName('ld')
    await createTopic(admin, topic, 1)
    const events = wholeChats(700, 25, server)
    const chats = [...new Set(events.map((e) => e.conn_id))]
    const part = (from: number, to: number) =>
      events.filter((e) => {
        const i = chats.indexOf(e.conn_id)
        return i >= from && i < to
      })
    const third = Math.floor(chats.length / 3)
    const applied = part(0, third)
    const deleted = part(third, 2 * third)
    const kept = part(2 * third, chats.length)
    await produceEvents(kafka(), topic, applied)
    running = await startConsumers({ brokers, redisUrl: redis.url, name, topic })
    await expectReference(running, server, applied)
    await stopConsumers(running)
    running = undefined

    // While the consumers are stopped: events arrive, a short retention deletes them, more arrive.
    await produceEvents(kafka(), topic, deleted)
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2, // TOPIC
          name: topic,
          configEntries: [
            { name: 'retention.ms', value: '1000' },
            { name: 'segment.ms', value: '100' },
          ],
        },
      ],
    })
    // Every record expires (the active segment too, rolled first): the log starts at its end.
    const start = applied.length + deleted.length
    await waitFor(
      async () => {
        const [p] = await admin.fetchTopicOffsets(topic)
        return Number(p?.low) === start
      },
      { what: 'retention to delete the expired records', timeoutMs: 90_000, intervalMs: 500 },
    )
    // Back to a long retention: what comes next must stay.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: topic,
          configEntries: [
            { name: 'retention.ms', value: String(7 * 86_400_000) },
            { name: 'segment.ms', value: String(7 * 86_400_000) },
          ],
        },
      ],
    })
    await produceEvents(kafka(), topic, kept)

    running = await startConsumers({ brokers, redisUrl: redis.url, name, topic })
    // Nothing can bring the deleted events back: what was applied before and what came after.
    await expectReference(running, server, [...applied, ...kept])
    for (const service of [running.aggregator, running.classifier]) {
      const text = await metricsOf(service)
      expect(counterValue(text, 'wolkvox_consumer_retention_lost_messages_total')).toBe(
        deleted.length,
      )
      // Not a foreign log: no rebuild.
      expect(counterValue(text, 'wolkvox_consumer_rebuilds_total')).toBe(0)
    }
    for (const log of [loggedLines(running.aggregator).join(''), running.classifierLog.join('')]) {
      expect(log).toContain('"code":"CONSUMER_RETENTION_GAP"')
      expect(log).toContain(`"lost":${deleted.length}`)
    }
    await stopConsumers(running)
    running = undefined
  })

  it('(b) `stack:down` then `stack:up` reusing Redis (a new cluster id): the new day is counted', async () => {
    // Regression: the aggregator committed offsets on the new broker and counted nothing, because
    // its Redis said partition 0 was applied up to an offset of the old broker's topic.
    const server = newServerCode()
    const name = uniqueName('lb')
    const up = async () => {
      const state = await stackUp({ home: stackHome, redisUrl: redis.url })
      expect(state.redisUrl).toBe(redis.url)
      brokers = state.kafkaBrokers
      await provisionTopics(kafka(), productTopics, { create: true })
      return state
    }
    const first = await up()
    const before = wholeChats(900, 26, server)
    await produceEvents(kafka(), topics.chatMessage.name, before)
    running = await startConsumers({ brokers, redisUrl: redis.url, name })
    await expectReference(running, server, before)
    await stopConsumers(running)
    running = undefined

    await stackDown({ home: stackHome })
    const second = await up()
    expect(second.kafka.pid).not.toBe(first.kafka.pid)
    const after = wholeChats(200, 27, server)
    await produceEvents(kafka(), topics.chatMessage.name, after)
    running = await startConsumers({ brokers, redisUrl: redis.url, name })
    await expectReference(running, server, after)
    await expectRebuiltFromAnotherLog(running, /reason="other_cluster"/u)
    await stopConsumers(running)
    running = undefined
  })
})
