import { AppError } from '@wolkvox-chat-stream/errors'
import { redisKeys } from '@wolkvox-chat-stream/redis'

/**
 * A key of a handler's state, relative to its partition: one part (`'counts'`) or several
 * (`['agent', agentKey, 'hour']`). Parts are free text: the kit escapes them, so an agent name with
 * spaces or a conn_id with `:` is a valid part.
 */
export type KeyPath = string | readonly string[]

// A letter first: a service name can then never be mistaken for a Wolkvox server code (digits),
// whose keys share the `wcs:{…}` namespace.
const NAME = /^[a-z][a-z0-9-]{0,62}$/

/**
 * Checks a consumer service name: it is the consumer group, the DLQ prefix
 * (`wolkvox.<name>.dlq`) and the hash tag of the service's Redis keys.
 *
 * @throws AppError `CONSUMER_OPTIONS_INVALID` unless it is 1 to 63 lower-case letters, digits and
 * dashes, starting with a letter.
 */
export function assertServiceName(name: string): string {
  if (!NAME.test(name)) {
    throw new AppError(
      'CONSUMER_OPTIONS_INVALID',
      `Consumer service name ${JSON.stringify(name)} must be 1 to 63 lower-case letters, digits and dashes, starting with a letter`,
      { details: { name } },
    )
  }
  return name
}

/**
 * One key part, escaped so that it satisfies the key scheme (no `{`, `}`, `:`, whitespace or control
 * characters) and stays unambiguous: `encodeURIComponent`, plus `%` alone for the empty string (an
 * output `encodeURIComponent` never produces).
 */
export function encodeKeyPart(part: string): string {
  return part === '' ? '%' : encodeURIComponent(part)
}

function pathParts(path: KeyPath): string[] {
  const parts = typeof path === 'string' ? [path] : [...path]
  if (parts.length === 0) {
    throw new AppError('CONSUMER_OPTIONS_INVALID', 'A state key needs at least one part')
  }
  return parts.map(encodeKeyPart)
}

/**
 * The Redis keys of one consumer service. Everything of partition N lives under the hash tag
 * `{<name>.pN}`, so one Lua script can update a partition's state, its applied offset and its
 * event_id set together on a Redis Cluster; keys of the service as a whole (the epoch, the partition
 * registry) live under `{<name>}`. A service name holds no `.`, so no two services' tags overlap.
 */
export interface ServiceKeys {
  readonly name: string
  /** `wcs:{<name>}:epoch`, the key `ensureEpoch(redis, name)` reads. */
  readonly epoch: string
  /** `wcs:{<name>}:kit:partitions`: the partitions that ever held state (for merged reads). */
  readonly partitions: string
  /**
   * `wcs:{<name>}:kit:dead-letters`: sorted set of the origins dead-lettered (`<cluster>|<topic>|
   * <partition>|<offset>`) scored by when (ms), kept as long as the dead-letter topic keeps records;
   * a replay (a rebuild) does not dead-letter them again. Not wiped with the partitions' state.
   */
  readonly deadLetters: string
  /** The hash tag of partition `partition`: `<name>.p<partition>`. */
  tag(partition: number): string
  /** `wcs:{<name>.pN}:kit:meta`: hash of `offset`, `epoch`, `applied`, `updated_ms`. */
  meta(partition: number): string
  /** `wcs:{<name>.pN}:kit:events`: sorted set of applied event_ids scored by when (ms). */
  events(partition: number): string
  /** `wcs:{<name>.pN}:kit:revs`: hash of event_id to the token of its applied revision. */
  revisions(partition: number): string
  /** `wcs:{<name>.pN}:s:<escaped parts>`: a key of the handler's state. */
  state(partition: number, path: KeyPath): string
  /** SCAN pattern of every key of partition N. */
  partitionPattern(partition: number): string
  /** SCAN pattern of every key of every partition. */
  allPartitionsPattern(): string
}

/** The keys of service `name`; see {@link ServiceKeys}. */
export function serviceKeys(name: string): ServiceKeys {
  assertServiceName(name)
  const tag = (partition: number): string => {
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new AppError('CONSUMER_OPTIONS_INVALID', `Partition ${partition} is not a partition`)
    }
    return `${name}.p${partition}`
  }
  return {
    name,
    epoch: redisKeys.key(name, 'epoch'),
    partitions: redisKeys.key(name, 'kit', 'partitions'),
    deadLetters: redisKeys.key(name, 'kit', 'dead-letters'),
    tag,
    meta: (partition) => redisKeys.key(tag(partition), 'kit', 'meta'),
    events: (partition) => redisKeys.key(tag(partition), 'kit', 'events'),
    revisions: (partition) => redisKeys.key(tag(partition), 'kit', 'revs'),
    state: (partition, path) => redisKeys.key(tag(partition), 's', ...pathParts(path)),
    partitionPattern: (partition) => `${redisKeys.prefix}:{${tag(partition)}}:*`,
    allPartitionsPattern: () => `${redisKeys.prefix}:{${name}.p*`,
  }
}
