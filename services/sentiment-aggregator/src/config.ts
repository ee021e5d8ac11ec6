import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { isTimeZone } from '@wolkvox-chat-stream/zoned-time'

/** What the aggregator reads besides the kit's variables (README: Configuration). */
export interface AggregatorConfig {
  /** `WOLKVOX_TIMEZONE`: the operation's zone, where days start at local midnight. */
  zone: string
  /** `SENTIMENT_SWEEP_INTERVAL`: how often windows left unemitted (a failed produce) are retried. */
  sweepIntervalMs: number
}

/**
 * Reads the aggregator's own variables once.
 *
 * @throws AppError `CONFIG_INVALID` listing each bad variable.
 */
export function readAggregatorConfig(env: Env): Readonly<AggregatorConfig> {
  return readConfig(env, (r) => {
    const zone = r.string('WOLKVOX_TIMEZONE', 'America/Bogota')
    if (!isTimeZone(zone)) r.report('WOLKVOX_TIMEZONE', 'is not an IANA time zone')
    const sweepIntervalMs = r.durationMs('SENTIMENT_SWEEP_INTERVAL', '5s')
    if (sweepIntervalMs < 100) r.report('SENTIMENT_SWEEP_INTERVAL', 'must be 100ms or more')
    return { zone, sweepIntervalMs }
  })
}
