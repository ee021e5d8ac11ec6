/*
 * The set-up the trámite classifier's integration tests share: a Kafka client and admin on the
 * private broker, an operation and topic names of their own, classifier instances started in this
 * process (all stopped after the file), and the wait for the output topic to hold the reference.
 */
import { afterAll, beforeAll, expect, inject } from 'vitest'
import { createKafkaClient, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger, type Logger } from '@wolkvox-chat-stream/observability'
import {
  createTramiteClassifier,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import { newServerCode } from './poller-harness.js'
import { createTopic } from './topics.js'
import { differences, latest, only, topicRecords, type Expected } from './tramite-reference.js'
import { uniqueName, waitFor } from './wait-for.js'

export interface TramiteHarness {
  /** A client on the private broker, and its admin (connected once `beforeAll` ran). */
  readonly kafka: Kafka
  readonly admin: Admin
  /** The operation the test's events belong to. */
  readonly server: string
  /** The classifier's name (its consumer group). */
  readonly name: string
  /** The input topic (created only with `inputPartitions`) and the output topic. */
  readonly input: string
  readonly output: string
  /**
   * Starts a classifier on the broker and Redis: HTTP on a free port, `output` as its output
   * topic, `input` as its input when created, short consumer timings; `env` adds or overrides.
   */
  start: (env?: Record<string, string>, logger?: Logger) => Promise<TramiteClassifier>
  /** Stops a classifier started by {@link start}. */
  stop: (service: TramiteClassifier) => Promise<void>
  /** The output topic's records of `server`. */
  records: () => ReturnType<typeof topicRecords>
  /** The latest output record per key. */
  topicLatest: () => Promise<Map<string, Expected>>
  /** Waits until the latest records of `want`'s keys equal `want`; else shows one difference. */
  settle: (want: ReadonlyMap<string, Expected>, what: string) => Promise<unknown>
}

/**
 * Registers the shared set-up of a trámite test file; names start with `prefix`, the Kafka client
 * is `${prefix}-test`. With `inputPartitions`, the input topic is created with that many.
 */
export function useTramiteHarness(options: {
  prefix: string
  inputPartitions?: number
}): TramiteHarness {
  const { prefix, inputPartitions } = options
  const brokers = inject('kafkaBrokers')
  const silent = createLogger({ name: `${prefix}-test`, level: 'silent' })
  const server = newServerCode()
  const name = uniqueName(prefix)
  const input = uniqueName(`${prefix}-input`)
  const output = uniqueName(`${prefix}-output`)
  const running: TramiteClassifier[] = []
  const kafka = createKafkaClient({ brokers: [brokers], clientId: `${prefix}-test` })
  const admin = kafka.admin()
  const records = () => topicRecords(kafka, output, server)
  const topicLatest = async () => latest(await records())

  beforeAll(async () => {
    await admin.connect()
    if (inputPartitions !== undefined) await createTopic(admin, input, inputPartitions)
  })

  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop().catch(() => undefined)))
    await admin.disconnect()
  })

  return {
    kafka,
    admin,
    server,
    name,
    input,
    output,
    start: async (env = {}, logger = silent) => {
      const service = createTramiteClassifier({
        name,
        logger,
        env: {
          KAFKA_BROKERS: brokers,
          REDIS_URL: inject('redisUrl'),
          HTTP_PORT: '0',
          ...(inputPartitions !== undefined ? { CONSUMER_INPUT_TOPIC: input } : {}),
          CLASSIFIER_OUTPUT_TOPIC: output,
          CONSUMER_SESSION_TIMEOUT: '6s',
          CONSUMER_HEARTBEAT_INTERVAL: '1s',
          ...env,
        },
      })
      running.push(service)
      await service.start()
      return service
    },
    stop: async (service) => {
      running.splice(running.indexOf(service), 1)
      await service.stop()
    },
    records,
    topicLatest,
    settle: (want, what) =>
      waitFor(async () => differences(only(await topicLatest(), want.keys()), want).length === 0, {
        timeoutMs: 60_000,
        what,
      }).catch(async (error: unknown) => {
        const got = only(await topicLatest(), want.keys())
        const bad = differences(got, want)[0]!
        expect(got.get(bad)).toEqual(want.get(bad))
        throw error
      }),
  }
}
