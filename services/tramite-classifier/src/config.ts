import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { topics } from '@wolkvox-chat-stream/events'
import { isTimeZone } from '@wolkvox-chat-stream/zoned-time'

/** The shipped Spanish rule set. */
export const shippedRulesFile = fileURLToPath(new URL('../rules/tramites.es.json', import.meta.url))

/** What the classifier reads besides the kit's variables (README: Configuration). */
export interface ClassifierConfig {
  /** `CLASSIFIER_NAME`: consumer group, dead-letter topic and Redis hash tag (one per deployment). */
  name: string
  /** `CLASSIFIER_RULES_FILE`: the rules, absolute; watched for changes. */
  rulesFile: string
  /** `CLASSIFIER_RULES_WATCH`: reload the rules when the file changes. */
  watchRules: boolean
  /** `CLASSIFIER_IDLE_TIMEOUT`: a chat never seen complete is emitted this long after its last message was published. */
  idleTimeoutMs: number
  /** `CLASSIFIER_SWEEP_INTERVAL`: how often idle chats are looked for and failed emits retried. */
  sweepIntervalMs: number
  /** `CLASSIFIER_OUTPUT_TOPIC`: where classifications go (staging, tests); then not provisioned as the contract's topic. */
  outputTopic: string
  /** `WOLKVOX_TIMEZONE`: the operation's zone, where a chat's day is its first message's local day. */
  zone: string
}

/**
 * Reads the classifier's own variables once; a relative rules path is read from `cwd`.
 *
 * @throws AppError `CONFIG_INVALID` listing each bad variable.
 */
export function readClassifierConfig(env: Env, cwd = process.cwd()): Readonly<ClassifierConfig> {
  return readConfig(env, (r) => {
    const zone = r.string('WOLKVOX_TIMEZONE', 'America/Bogota')
    if (!isTimeZone(zone)) r.report('WOLKVOX_TIMEZONE', 'is not an IANA time zone')
    const idleTimeoutMs = r.durationMs('CLASSIFIER_IDLE_TIMEOUT', '30m')
    if (idleTimeoutMs < 1_000) r.report('CLASSIFIER_IDLE_TIMEOUT', 'must be 1s or more')
    const sweepIntervalMs = r.durationMs('CLASSIFIER_SWEEP_INTERVAL', '5s')
    if (sweepIntervalMs < 100) r.report('CLASSIFIER_SWEEP_INTERVAL', 'must be 100ms or more')
    const file = r.string('CLASSIFIER_RULES_FILE', shippedRulesFile)
    const name = r.string('CLASSIFIER_NAME', 'tramite-classifier')
    if (!/^[a-z][a-z0-9-]{0,62}$/u.test(name))
      r.report(
        'CLASSIFIER_NAME',
        'must be 1 to 63 lower-case letters, digits and dashes, a letter first',
      )
    const outputTopic = r.string('CLASSIFIER_OUTPUT_TOPIC', topics.chatTramite.name)
    if (outputTopic.trim() === '') r.report('CLASSIFIER_OUTPUT_TOPIC', 'must not be empty')
    return {
      name,
      rulesFile: isAbsolute(file) ? file : resolve(cwd, file),
      watchRules: r.boolean('CLASSIFIER_RULES_WATCH', true),
      idleTimeoutMs,
      sweepIntervalMs,
      outputTopic,
      zone,
    }
  })
}
