/**
 * The benchmark table (QUALITY.md, Performance). Each row runs its subject and, when it has one,
 * its baseline, alternately in the same run on the same broker, and is reported as a ratio.
 */
export interface BenchCase {
  /** Script under test/bench/cases/. */
  script: string
  env?: Record<string, string>
}

export interface Benchmark {
  name: string
  /** What one item is, for the throughput column (`msg`). */
  unit: string
  subject: BenchCase
  /** Absent for a row that is itself the baseline of later rows. */
  baseline?: BenchCase
  /** The target from QUALITY.md, as text for the table. */
  target: string
  /**
   * Events of the drain backlog (drain-input.ts) the row reads: produced before the row, in a
   * process of its own (cases/fill-backlog.ts), so no case's peak RSS includes producing it.
   */
  backlog?: number
}

/** Events of the drain rows (`BENCH_CONSUMER_EVENTS`, default 1,000,000). */
const drainEvents = process.env.BENCH_CONSUMER_EVENTS ?? '1000000'
/** Events of the rebuild row (`BENCH_REBUILD_EVENTS`, default 2,000,000). */
const rebuildEvents = process.env.BENCH_REBUILD_EVENTS ?? '2000000'
const rawDrain = (events: string): BenchCase => ({
  script: 'consumer-drain.ts',
  env: { BENCH_SIDE: 'raw', BENCH_EVENTS: events },
})
const serviceDrain = (service: string, events: string, rebuild = false): BenchCase => ({
  script: 'service-drain.ts',
  env: { BENCH_SERVICE: service, BENCH_EVENTS: events, ...(rebuild ? { BENCH_REBUILD: '1' } : {}) },
})

export const benchmarks: Benchmark[] = [
  {
    name: 'kafka.raw-send-batch',
    unit: 'msg',
    subject: {
      script: 'kafka-send-batch.ts',
      env: { BENCH_RECORDS: '100000', BENCH_RECORD_BYTES: '300' },
    },
    target: 'baseline for later rows (100,000 × 300 B, acks=all)',
  },
  {
    name: 'lock.acquire-release-20-contenders',
    unit: 'lease',
    subject: { script: 'lock-contenders.ts', env: { BENCH_SIDE: 'lock', BENCH_CONTENDERS: '20' } },
    baseline: { script: 'lock-contenders.ts', env: { BENCH_SIDE: 'raw', BENCH_CONTENDERS: '20' } },
    target: 'overhead stated (QUALITY.md): raw SET NX / DEL round trips as baseline',
  },
  {
    // No broker involved: one process classifies chat lines with the shipped rule set.
    name: 'classifier.classify-message',
    unit: 'msg',
    subject: { script: 'classifier-engine.ts', env: { BENCH_MESSAGES: '500000' } },
    // The naive loop is over 10x slower: fewer messages keep the run short; rates are per message.
    baseline: { script: 'classifier-naive-regex.ts', env: { BENCH_MESSAGES: '100000' } },
    target: '≥ 10x the naive one-regex-per-term loop and ≥ 300,000 msg/s on one core',
  },
  {
    // No broker involved: one process scores chat lines with the text sentiment scorer.
    name: 'sentiment.score-text',
    unit: 'msg',
    subject: { script: 'sentiment-scorer.ts', env: { BENCH_SIDE: 'scorer' } },
    baseline: { script: 'sentiment-scorer.ts', env: { BENCH_SIDE: 'naive' } },
    target: '≥ 300,000 msg/s on one core; baseline: a bare word-by-word lexicon lookup',
  },
  {
    // The ceiling quoted next to the poller: Kafka's own Java producer, same broker, same settings.
    name: 'kafka.producer-perf-java',
    unit: 'msg',
    subject: {
      script: 'kafka-producer-perf.ts',
      env: { BENCH_RECORDS: '200000', BENCH_RECORD_BYTES: '300' },
    },
    target: 'ceiling for the poller row: ProducerPerformance, acks=all, idempotent, gzip',
  },
  {
    name: 'poller.window-60k-to-watermark',
    unit: 'msg',
    subject: { script: 'poller-window.ts', env: { BENCH_SIDE: 'poller', BENCH_MESSAGES: '60000' } },
    baseline: { script: 'poller-window.ts', env: { BENCH_SIDE: 'raw', BENCH_MESSAGES: '60000' } },
    target: '≥ 0.8x the raw sendBatch of the same pre-encoded records (QUALITY.md)',
  },
  {
    // 200 operations on one simulator, polled live by three `poller run` replicas against one.
    name: 'poller.fleet-200-operations',
    unit: 'poll',
    subject: { script: 'poller-fleet.ts', env: { BENCH_REPLICAS: '3' } },
    baseline: { script: 'poller-fleet.ts', env: { BENCH_REPLICAS: '1' } },
    target:
      'schedule adherence stated (start delay p50/p99, watermark lag), Redis commands/s and bytes per operation, CPU per replica; 3 replicas against 1',
  },
  {
    // Registry mode's cost on the poller: the Confluent wire format (a registered schema id
    // instead of the fingerprint header) against the single-object encoding, same window.
    name: 'poller.window-60k-registry-mode',
    unit: 'msg',
    subject: {
      script: 'poller-window.ts',
      env: { BENCH_SIDE: 'poller', BENCH_MESSAGES: '60000', BENCH_REGISTRY: '1' },
    },
    baseline: {
      script: 'poller-window.ts',
      env: { BENCH_SIDE: 'poller', BENCH_MESSAGES: '60000' },
    },
    target: 'registry mode stated: the same window in the Confluent wire format vs single-object',
  },
  {
    // The kit's overhead: decode, de-duplicate and store state with the offset, against no work.
    name: 'consumer.drain-backlog',
    unit: 'msg',
    subject: { script: 'consumer-drain.ts', env: { BENCH_SIDE: 'kit', BENCH_EVENTS: drainEvents } },
    baseline: rawDrain(drainEvents),
    target: 'kit overhead stated: toy counter on the kit vs raw kafkajs eachBatch, same events',
    backlog: Number(drainEvents),
  },
  {
    name: 'sentiment.drain-backlog',
    unit: 'msg',
    subject: serviceDrain('sentiment', drainEvents),
    baseline: rawDrain(drainEvents),
    target:
      '≥ 0.7x a raw kafkajs eachBatch consumer on the same topic; peak RSS ≤ 512 MiB, consume-only (QUALITY.md)',
    backlog: Number(drainEvents),
  },
  {
    name: 'classifier.drain-backlog',
    unit: 'msg',
    subject: serviceDrain('classifier', drainEvents),
    baseline: rawDrain(drainEvents),
    target: 'stated beside the sentiment row; peak RSS ≤ 512 MiB, consume-only (QUALITY.md)',
    backlog: Number(drainEvents),
  },
  {
    name: 'quality.drain-backlog',
    unit: 'msg',
    subject: serviceDrain('quality', drainEvents),
    baseline: rawDrain(drainEvents),
    target: 'stated beside the sentiment row: the same events, raw kafkajs eachBatch as baseline',
    backlog: Number(drainEvents),
  },
  {
    // A rebuild: the aggregator's Redis epoch lost after a full drain; replay until ready again.
    name: 'sentiment.rebuild-2m',
    unit: 'msg',
    subject: serviceDrain('sentiment', rebuildEvents, true),
    baseline: rawDrain(rebuildEvents),
    target:
      'rebuild time and events/s stated: the aggregator replaying its input after a lost Redis',
    backlog: Number(rebuildEvents),
  },
  {
    // Absolute, stated with the machine: no baseline measures the same thing.
    name: 'e2e.window-to-http',
    unit: 'msg',
    subject: { script: 'e2e-latency.ts', env: { BENCH_MESSAGES: '5000', BENCH_WINDOWS: '10' } },
    target: 'p50 and p99 stated; p99 under 1 s for 5,000 messages (QUALITY.md)',
  },
]
