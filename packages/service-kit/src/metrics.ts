import type { Counter, Gauge, Histogram, MetricsRegistry } from '@wolkvox-chat-stream/observability'

/** What can happen to one consumed message. */
export const messageOutcomes = ['applied', 'corrected', 'duplicate', 'dead_lettered'] as const

/** What happened to one consumed message. */
export type MessageOutcome = (typeof messageOutcomes)[number]

/**
 * The kit's metrics. Every series carries the registry's `service` default label; the other labels
 * are bounded: an outcome, an error code from the registry, a partition number, a rebuild reason.
 */
export interface ConsumerMetrics {
  messages: Counter<'outcome'>
  deadLetters: Counter<'code'>
  retries: Counter<'code'>
  batchDuration: Histogram
  lag: Gauge<'partition'>
  rebuilding: Gauge
  rebuilds: Counter<'reason'>
  consecutiveFailures: Gauge
  stateOpErrors: Counter
  retentionLost: Counter
}

/**
 * Declares the `wolkvox_consumer_*` metrics on `registry`. Every message outcome starts at zero,
 * so that the first dead letter is an increase an alert sees.
 */
export function createConsumerMetrics(registry: MetricsRegistry): ConsumerMetrics {
  const metrics: ConsumerMetrics = {
    messages: registry.counter({
      name: 'wolkvox_consumer_messages_total',
      help: 'Messages consumed, by outcome: applied, corrected (a newer revision of an applied event), duplicate (offset or event_id and revision already applied), dead_lettered.',
      labelNames: ['outcome'],
    }),
    deadLetters: registry.counter({
      name: 'wolkvox_consumer_dead_letters_total',
      help: 'Messages sent to the dead-letter topic, by error code.',
      labelNames: ['code'],
    }),
    retries: registry.counter({
      name: 'wolkvox_consumer_retries_total',
      help: 'Pauses after a retriable failure (Redis, Kafka or a handler briefly failing), by error code.',
      labelNames: ['code'],
    }),
    batchDuration: registry.histogram({
      name: 'wolkvox_consumer_batch_duration_seconds',
      help: 'Time to process one fetched batch of one partition, state stored.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    lag: registry.gauge({
      name: 'wolkvox_consumer_lag_messages',
      help: 'Messages of the partition not processed yet, as of its last batch.',
      labelNames: ['partition'],
    }),
    rebuilding: registry.gauge({
      name: 'wolkvox_consumer_rebuilding',
      help: '1 while state is being rebuilt by replaying the input from the beginning, else 0.',
    }),
    rebuilds: registry.counter({
      name: 'wolkvox_consumer_rebuilds_total',
      help: 'Partitions replayed from the beginning to rebuild their state, by reason.',
      labelNames: ['reason'],
    }),
    consecutiveFailures: registry.gauge({
      name: 'wolkvox_consumer_consecutive_failures',
      help: 'Messages dead-lettered in a row; the consumer stops at CONSUMER_MAX_CONSECUTIVE_FAILURES.',
    }),
    stateOpErrors: registry.counter({
      name: 'wolkvox_consumer_state_op_errors_total',
      help: 'State operations Redis refused while applying (the rest of their event was applied).',
    }),
    retentionLost: registry.counter({
      name: 'wolkvox_consumer_retention_lost_messages_total',
      help: 'Messages of the input deleted (retention) before they were applied: missing from the state for good.',
    }),
  }
  for (const outcome of messageOutcomes) metrics.messages.inc({ outcome }, 0)
  return metrics
}
