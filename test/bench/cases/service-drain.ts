/*
 * A product consumer service draining a backlog of ChatMessage events, beside a raw kafkajs
 * consumer on the same topic (`consumer-drain.ts BENCH_SIDE=raw`). BENCH_SERVICE picks the
 * service: `sentiment` (the aggregator; QUALITY.md: at least 0.7x the raw consumer), `classifier`
 * or `quality`. The backlog (`bench-consumer-drain-<count>`) is produced by the harness in a
 * process of its own before the row (fill-backlog.ts), so the peak RSS reported is the consuming
 * process's alone. The clock runs from start to the last event counted; outputs are written to
 * fresh topics meanwhile, as in production.
 *
 * BENCH_REBUILD=1 measures a rebuild instead: the service drains the backlog once (not timed),
 * stops, loses its Redis epoch (what a new or flushed Redis looks like), and the clock runs from
 * its next start until it has replayed the input from the beginning and is ready again.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000), BENCH_SERVICE, BENCH_REBUILD.
 */
import { randomBytes } from 'node:crypto'
import { createChatQuality } from '@wolkvox-chat-stream/chat-quality'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import {
  deleteServiceState,
  serviceKeys,
  type ConsumerService,
} from '@wolkvox-chat-stream/service-kit'
import { createTramiteClassifier } from '@wolkvox-chat-stream/tramite-classifier'
import { numberFromEnv, reportResult } from '../case-support.js'
import { ensureDrainInput } from '../drain-input.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)
const kind = process.env.BENCH_SERVICE ?? 'sentiment'
const rebuild = process.env.BENCH_REBUILD === '1'

const log = (line: string): void => void process.stderr.write(`  [${kind}-drain] ${line}\n`)

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: `bench-${kind}` })
// Filled by the harness before the row; filled here only when the case runs on its own.
const topic = await ensureDrainInput(kafka, count, log)

const suffix = randomBytes(4).toString('hex')
const name = `bench-${kind}-${suffix}`
const env = {
  KAFKA_BROKERS: brokers,
  REDIS_URL: redisUrl,
  HTTP_PORT: '0',
  LOG_LEVEL: 'error',
  CONSUMER_INPUT_TOPIC: topic,
  // A knob to compare settings with: the service's own default otherwise.
  ...(process.env.CONSUMER_PARTITIONS_CONCURRENTLY === undefined
    ? {}
    : { CONSUMER_PARTITIONS_CONCURRENTLY: process.env.CONSUMER_PARTITIONS_CONCURRENTLY }),
}
// The replay of a new service is logged as a rebuild: only errors matter here.
const logger = createLogger({ name, level: 'error', stream: process.stderr })

/** A new instance of the service under `name` (the same state and group every time). */
function create(): { service: ConsumerService; names: string[] } {
  switch (kind) {
    case 'sentiment':
      return {
        service: createSentimentAggregator({
          name,
          outputTopic: `bench-sentiment-out-${suffix}`,
          logger,
          env,
        }),
        names: [name],
      }
    case 'classifier':
      return {
        service: createTramiteClassifier({
          name,
          logger,
          env: {
            ...env,
            CLASSIFIER_OUTPUT_TOPIC: `bench-classifier-out-${suffix}`,
            CLASSIFIER_RULES_WATCH: 'false',
          },
        }),
        names: [name],
      }
    case 'quality':
      return {
        service: createChatQuality({
          name,
          logger,
          env: {
            ...env,
            QUALITY_OUTPUT_TOPIC: `bench-quality-out-${suffix}`,
            QUALITY_TRAMITE_TOPIC: `bench-quality-tramites-${suffix}`,
            QUALITY_RULES_WATCH: 'false',
          },
        }),
        names: [name, `${name}-tramites`],
      }
    default:
      throw new Error(`BENCH_SERVICE must be sentiment, classifier or quality, not ${kind}`)
  }
}

/** Starts an instance and resolves once it has handled the whole backlog and is ready. */
async function drain(): Promise<{ durationMs: number; instance: ReturnType<typeof create> }> {
  const instance = create()
  const started = performance.now()
  await instance.service.start()
  for (;;) {
    const status = instance.service.status()
    const { applied, duplicates, deadLettered } = status.stats
    if (applied + duplicates + deadLettered >= count && status.ready) break
    if (status.phase === 'failed') throw new Error(`the ${kind} service failed`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { durationMs: performance.now() - started, instance }
}

const redis = createRedis(redisUrl)
await waitUntilReady(redis)
let { durationMs, instance } = await drain()
if (rebuild) {
  log(`first drain of ${count} events in ${Math.round(durationMs)} ms; losing the epoch`)
  await instance.service.stop()
  await redis.del(...instance.names.map((n) => serviceKeys(n).epoch))
  ;({ durationMs, instance } = await drain())
  if (instance.service.status().stats.rebuilds === 0) throw new Error('no rebuild happened')
}
await instance.service.stop()
for (const n of instance.names) await deleteServiceState(redis, n)
await redis.quit()
reportResult({ items: count, durationMs })
