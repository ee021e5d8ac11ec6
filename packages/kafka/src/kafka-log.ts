import type { KafkaLogEntry } from './client.js'

/**
 * The one warning dropped: kafkajs prints it for every idempotent producer whose `retry.retries`
 * is not unlimited. The project's producers bound their retries on purpose (a send fails in
 * bounded time, the window is not acknowledged, and it is sent again by a new idempotent session;
 * subscribers de-duplicate), so it asks an operator a question with nothing to act on. README:
 * "The producer and kafkajs's EoS warning".
 */
export const IDEMPOTENT_RETRIES_WARNING =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees'

/**
 * Broker answers kafkajs logs at `error` for every response that carries them and then retries by
 * itself: a group coordinator starting or moving, a rebalance, a leader election (a topic just
 * created, a broker restarted). When the retries run out, the failure reaches the caller, which
 * reports it; each single answer is normal chatter. Matched against a record's message and its
 * `error` field (kafkajs logs a failed response as `Response <Api>` with the broker's message in
 * `error`).
 */
const NORMAL_BROKER_ANSWERS: readonly RegExp[] = [
  /^The coordinator is loading/,
  /^The group coordinator is not available/,
  /^This is not the correct coordinator for this group/,
  /^The group is rebalancing/,
  /^There is no leader for this topic-partition as we are in the middle of a leadership election/,
]

/**
 * The level a kafkajs record is logged at in the project, or `null` to drop it.
 *
 * - kafkajs's `info` records (a consumer starting, joining its group, stopping, pausing) are
 *   `debug`: the project's own lines say what a process does.
 * - the known normal broker answers of {@link NORMAL_BROKER_ANSWERS} are `debug`, whatever level
 *   kafkajs gave them;
 * - {@link IDEMPOTENT_RETRIES_WARNING} is dropped;
 * - everything else keeps its level: a refused connection, a crash, a SASL failure stay errors.
 */
export function projectLevelOf(
  entry: Pick<KafkaLogEntry, 'level' | 'namespace' | 'message' | 'fields'>,
): KafkaLogEntry['level'] | null {
  if (entry.message === IDEMPOTENT_RETRIES_WARNING) return null
  if (entry.level === 'info') return 'debug'
  const error = entry.fields.error
  const texts = typeof error === 'string' ? [entry.message, error] : [entry.message]
  if (NORMAL_BROKER_ANSWERS.some((pattern) => texts.some((text) => pattern.test(text))))
    return 'debug'
  return entry.level
}
