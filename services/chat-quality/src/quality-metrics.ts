/*
 * Prometheus metrics of the quality written, for alerting on it (deploy/prometheus/rules): each
 * conversation counted by whether its first response met the standard (and its response gaps),
 * and its first response observed in a histogram with the buckets of the per-agent figures.
 *
 * Counted once per conversation, on its first record (`change === 'new'`). A later record of the
 * same conversation (more messages, an idle chat completed, other rules) may change its outcome,
 * but a counter cannot give back what it counted, so later records are not counted: the metrics
 * describe conversations as first written. The per-agent figures of the HTTP API follow every
 * change; these metrics are for rates and shares over time, not for exact totals. A rebuild
 * (state replayed from the beginning) writes every conversation's first record again, so it
 * counts them again.
 */
import type { ChatQuality } from '@wolkvox-chat-stream/events'
import type { MetricsRegistry } from '@wolkvox-chat-stream/observability'
import type { EmitChange } from '@wolkvox-chat-stream/service-kit'
import { FIRST_RESPONSE_BUCKETS_MS } from './histogram.js'

/** Whether a standard was met: `none` when it did not apply (the customer never wrote). */
export const standardOutcomes = ['met', 'missed', 'none'] as const
export type StandardOutcome = (typeof standardOutcomes)[number]

/** The histogram's upper bounds in seconds: the per-agent buckets (histogram.ts), same bounds. */
export const FIRST_RESPONSE_BUCKETS_SECONDS: readonly number[] = FIRST_RESPONSE_BUCKETS_MS.map(
  (ms) => ms / 1000,
)

/** The fields of a record the metrics read. */
export type ObservedRecord = Pick<
  ChatQuality,
  'server' | 'first_response_ms' | 'meets_first_response' | 'meets_response_gaps'
>

export interface QualityMetrics {
  /**
   * Counts a record just written (produced and recorded), with what changed against the last
   * record of its conversation; only `new` (its first record) is counted, see the top of the file.
   */
  observe(record: ObservedRecord, change: EmitChange): void
}

/** The most operations labelled on their own; any further one is `server="other"`. */
export const MAX_SERVER_LABELS = 100

const outcomeOf = (met: boolean | null): StandardOutcome =>
  met === null ? 'none' : met ? 'met' : 'missed'

/**
 * Declares on `metrics` (the service's registry, whose `service` default label names the
 * deployment):
 * - `wolkvox_quality_first_response_total{server,outcome}` conversations by whether the first
 *   response met `QUALITY_FIRST_RESPONSE_TARGET` (`met`, `missed`, `none`);
 * - `wolkvox_quality_response_gaps_total{server,outcome}` the same for
 *   `QUALITY_RESPONSE_GAP_TARGET` (every customer turn answered within it);
 * - `wolkvox_quality_first_response_seconds{server}` the first response of conversations that
 *   have one, bucketed like the per-agent histogram.
 *
 * `server` is the operation's code (a handful per deployment). It comes from the topic, so its
 * values are capped: the first {@link MAX_SERVER_LABELS} operations seen get their own, any later
 * one is counted under `server="other"`. An operation's outcomes all start at zero when its first
 * conversation is counted, so that the first miss is an increase.
 */
export function createQualityMetrics(metrics: MetricsRegistry): QualityMetrics {
  const firstResponse = metrics.counter({
    name: 'wolkvox_quality_first_response_total',
    help: 'Conversations written, by whether the first response met the first-response standard: met, missed, none (the customer never wrote). Counted on the first record of a conversation only.',
    labelNames: ['server', 'outcome'],
  })
  const responseGaps = metrics.counter({
    name: 'wolkvox_quality_response_gaps_total',
    help: 'Conversations written, by whether every customer turn was answered within the response-gap standard: met, missed, none (the customer never wrote). Counted on the first record of a conversation only.',
    labelNames: ['server', 'outcome'],
  })
  const firstResponseSeconds = metrics.histogram({
    name: 'wolkvox_quality_first_response_seconds',
    help: 'First response of the conversations written (from the first customer message to the first agent answer), on the first record of a conversation; none when no agent answered.',
    labelNames: ['server'],
    buckets: FIRST_RESPONSE_BUCKETS_SECONDS,
  })
  const seen = new Set<string>()

  return {
    observe(record, change) {
      if (change !== 'new') return
      const server =
        seen.has(record.server) || seen.size < MAX_SERVER_LABELS ? record.server : 'other'
      if (!seen.has(server)) {
        seen.add(server)
        for (const outcome of standardOutcomes) {
          firstResponse.inc({ server, outcome }, 0)
          responseGaps.inc({ server, outcome }, 0)
        }
      }
      firstResponse.inc({ server, outcome: outcomeOf(record.meets_first_response) })
      responseGaps.inc({ server, outcome: outcomeOf(record.meets_response_gaps) })
      if (record.first_response_ms !== null)
        firstResponseSeconds.observe({ server }, record.first_response_ms / 1000)
    },
  }
}
