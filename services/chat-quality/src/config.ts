import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { topics } from '@wolkvox-chat-stream/events'
import { isTimeZone } from '@wolkvox-chat-stream/zoned-time'

/** The shipped Spanish protocol rules. */
export const shippedRulesFile = fileURLToPath(new URL('../rules/protocol.es.json', import.meta.url))

/** What the quality service reads besides the kit's variables (README: Configuration). */
export interface QualityConfig {
  /**
   * `QUALITY_NAME`: consumer group, dead-letter topic and Redis hash tag (one per deployment); the
   * classifications are consumed as `<name>-tramites`.
   */
  name: string
  /** `QUALITY_RULES_FILE`: the protocol rules, absolute; watched for changes. */
  rulesFile: string
  /** `QUALITY_RULES_WATCH`: reload the rules when the file changes. */
  watchRules: boolean
  /** `QUALITY_IDLE_TIMEOUT`: a chat never seen complete is written this long after its last message was published. */
  idleTimeoutMs: number
  /** `QUALITY_SWEEP_INTERVAL`: how often idle chats are looked for and failed emits retried. */
  sweepIntervalMs: number
  /** `QUALITY_OUTPUT_TOPIC`: where ChatQuality records go; then not provisioned as the contract's topic. */
  outputTopic: string
  /** `QUALITY_FIRST_RESPONSE_TARGET`: the first-response standard. */
  firstResponseTargetMs: number
  /** `QUALITY_RESPONSE_GAP_TARGET`: the standard every customer turn is answered within. */
  responseGapTargetMs: number
  /** `WOLKVOX_TIMEZONE`: the operation's zone, where a chat's day is its first message's local day. */
  zone: string
  /** `FCR_WINDOW`: a repeat contact within this long after a chat ends means it was not resolved. */
  fcrWindowMs: number
  /** `QUALITY_TRAMITE_TOPIC`: the trámite classifications FCR groups by. */
  tramiteTopic: string
}

/**
 * Reads the quality service's own variables once; a relative rules path is read from `cwd`.
 *
 * @throws AppError `CONFIG_INVALID` listing each bad variable.
 */
export function readQualityConfig(env: Env, cwd = process.cwd()): Readonly<QualityConfig> {
  return readConfig(env, (r) => {
    const zone = r.string('WOLKVOX_TIMEZONE', 'America/Bogota')
    if (!isTimeZone(zone)) r.report('WOLKVOX_TIMEZONE', 'is not an IANA time zone')
    const idleTimeoutMs = r.durationMs('QUALITY_IDLE_TIMEOUT', '30m')
    if (idleTimeoutMs < 1_000) r.report('QUALITY_IDLE_TIMEOUT', 'must be 1s or more')
    const sweepIntervalMs = r.durationMs('QUALITY_SWEEP_INTERVAL', '5s')
    if (sweepIntervalMs < 100) r.report('QUALITY_SWEEP_INTERVAL', 'must be 100ms or more')
    const firstResponseTargetMs = r.durationMs('QUALITY_FIRST_RESPONSE_TARGET', '60s')
    if (firstResponseTargetMs < 1_000)
      r.report('QUALITY_FIRST_RESPONSE_TARGET', 'must be 1s or more')
    const responseGapTargetMs = r.durationMs('QUALITY_RESPONSE_GAP_TARGET', '120s')
    if (responseGapTargetMs < 1_000) r.report('QUALITY_RESPONSE_GAP_TARGET', 'must be 1s or more')
    const file = r.string('QUALITY_RULES_FILE', shippedRulesFile)
    const name = r.string('QUALITY_NAME', 'chat-quality')
    // 54 at most: the companion consumer of classifications is `<name>-tramites`.
    if (!/^[a-z][a-z0-9-]{0,53}$/u.test(name))
      r.report(
        'QUALITY_NAME',
        'must be 1 to 54 lower-case letters, digits and dashes, a letter first',
      )
    const outputTopic = r.string('QUALITY_OUTPUT_TOPIC', topics.chatQuality.name)
    if (outputTopic.trim() === '') r.report('QUALITY_OUTPUT_TOPIC', 'must not be empty')
    const tramiteTopic = r.string('QUALITY_TRAMITE_TOPIC', topics.chatTramite.name)
    if (tramiteTopic.trim() === '') r.report('QUALITY_TRAMITE_TOPIC', 'must not be empty')
    const fcrWindowMs = r.durationMs('FCR_WINDOW', '7d')
    if (fcrWindowMs < 60_000) r.report('FCR_WINDOW', 'must be 1m or more')
    // A query reads the entries of its range plus one window; keep that bounded.
    if (fcrWindowMs > 90 * 86_400_000) r.report('FCR_WINDOW', 'must be 90d or less')
    return {
      name,
      rulesFile: isAbsolute(file) ? file : resolve(cwd, file),
      watchRules: r.boolean('QUALITY_RULES_WATCH', true),
      idleTimeoutMs,
      sweepIntervalMs,
      outputTopic,
      firstResponseTargetMs,
      responseGapTargetMs,
      zone,
      fcrWindowMs,
      tramiteTopic,
    }
  })
}
