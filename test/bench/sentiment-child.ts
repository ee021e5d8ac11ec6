/*
 * The sentiment aggregator as its own process for the end-to-end benchmark, under a fresh
 * service name (its own consumer group and Redis state). Env: BENCH_KAFKA_BROKERS,
 * BENCH_REDIS_URL, BENCH_NAME, BENCH_HTTP_PORT, BENCH_SCHEMA_REGISTRY_URL (when the run has one).
 * Stops on SIGTERM.
 */
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'

const name = process.env.BENCH_NAME ?? 'bench-e2e-sentiment'
const service = createSentimentAggregator({
  name,
  outputTopic: `${name}-out`,
  logger: createLogger({ name, level: 'error', stream: process.stderr }),
  env: {
    KAFKA_BROKERS: process.env.BENCH_KAFKA_BROKERS ?? '',
    REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
    HTTP_PORT: process.env.BENCH_HTTP_PORT ?? '0',
    LOG_LEVEL: 'error',
    // The registry-mode poller row writes to the same topic: its records need the registry.
    ...(process.env.BENCH_SCHEMA_REGISTRY_URL
      ? { SCHEMA_REGISTRY_URL: process.env.BENCH_SCHEMA_REGISTRY_URL }
      : {}),
  },
})
await service.start()
process.once('SIGTERM', () => void service.stop().then(() => process.exit(0)))
