import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { isTimeZone } from '@wolkvox-chat-stream/zoned-time'

/** What the aggregator reads besides the kit's variables (README: Configuration). */
export interface AggregatorConfig {
  /** `WOLKVOX_TIMEZONE`: the operation's zone, where days start at local midnight. */
  zone: string
  /** `SENTIMENT_SWEEP_INTERVAL`: how often windows left unemitted (a failed produce) are retried. */
  sweepIntervalMs: number
  /**
   * `SENTIMENT_AGENT_SENTIMENT_VERSION`: the AgentSentiment schema written to the output topic: 2
   * (with the text-scored figures), or 1 while a subscriber cannot read v2 yet.
   */
  outputVersion: 1 | 2
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
    // AgentSentiment v2 adds the text-scored figures; v1 only while some subscriber cannot read v2
    // yet (readers are upgraded before writers).
    const outputVersion = Number(
      r.oneOf('SENTIMENT_AGENT_SENTIMENT_VERSION', ['2', '1'] as const, '2'),
    ) as 1 | 2
    return { zone, sweepIntervalMs, outputVersion }
  })
}
