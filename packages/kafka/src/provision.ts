import kafkajs, { type Admin, type Kafka } from 'kafkajs'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Logger } from '@wolkvox-chat-stream/observability'
import { toKafkaError } from './errors.js'

/**
 * A topic and the settings it must have; `@wolkvox-chat-stream/events` exports the contract's
 * topics (`productTopics`, `dlqTopic(group)`) in this shape.
 */
export interface TopicSpec {
  readonly name: string
  /** The least partitions: more are an operator's choice when scaling out, fewer a mistake. */
  readonly partitions: number
  readonly cleanupPolicy: 'delete' | 'compact'
  /** `retention.ms`, checked exactly when given. */
  readonly retentionMs?: number
  /** The least `max.message.bytes`. */
  readonly maxMessageBytes: number
}

/** Options for {@link provisionTopics}. */
export interface ProvisionOptions {
  /** `KAFKA_CREATE_TOPICS`: create missing topics (`true`) or only verify. */
  create: boolean
  /**
   * `KAFKA_REPLICATION_FACTOR`: for created topics (used as is: a cluster with fewer brokers
   * refuses the creation), and the least every topic must have when given. Default: the broker's
   * `default.replication.factor`, capped by the number of brokers.
   */
  replicationFactor?: number
  /**
   * `KAFKA_MIN_INSYNC_REPLICAS`: set as `min.insync.replicas` on created topics, and the least every
   * topic must have. Default: 2 for a replication factor of 3 or more (with `acks=all`, a write is
   * then on two replicas before it is acknowledged, and one broker may be lost), else left to the
   * broker (1).
   */
  minInsyncReplicas?: number
  logger?: Logger
  /** How long to wait for created topics to have leaders. Default 30 s. */
  timeoutMs?: number
}

/**
 * The provisioning options of a service's Kafka settings: `KAFKA_CREATE_TOPICS` (create, or only
 * verify), `KAFKA_REPLICATION_FACTOR` and `KAFKA_MIN_INSYNC_REPLICAS` when set.
 */
export function provisionOptionsOf(
  settings: {
    createTopics: boolean
    replicationFactor?: number | undefined
    minInsyncReplicas?: number | undefined
  },
  logger?: Logger,
): ProvisionOptions {
  return {
    create: settings.createTopics,
    ...(settings.replicationFactor === undefined
      ? {}
      : { replicationFactor: settings.replicationFactor }),
    ...(settings.minInsyncReplicas === undefined
      ? {}
      : { minInsyncReplicas: settings.minInsyncReplicas }),
    ...(logger ? { logger } : {}),
  }
}

/** The least replication a topic must have; `undefined` leaves a setting unchecked. */
export interface TopicDurability {
  replicationFactor?: number
  minInsyncReplicas?: number
}

/**
 * The `min.insync.replicas` a topic of `replicationFactor` replicas must have: the configured one,
 * else 2 from three replicas on (a write acknowledged with `acks=all` survives the loss of any one
 * broker), else none (the broker's default, 1: with fewer than three replicas, two in sync would
 * stop every write as soon as one broker is down).
 * @throws AppError `CONFIG_INVALID` when the configured value is above the replication factor: no
 *   write with `acks=all` could ever succeed.
 */
export function minInsyncFor(
  replicationFactor: number,
  configured: number | undefined,
): number | undefined {
  if (configured !== undefined && configured > replicationFactor) {
    throw new AppError(
      'CONFIG_INVALID',
      `KAFKA_MIN_INSYNC_REPLICAS is ${configured}, more than the replication factor ${replicationFactor}: no write with acks=all could succeed`,
      { details: { minInsyncReplicas: configured, replicationFactor } },
    )
  }
  return configured ?? (replicationFactor >= 3 ? 2 : undefined)
}

/** One way an existing topic differs from its spec. */
export interface TopicMismatch {
  topic: string
  setting:
    | 'exists'
    | 'partitions'
    | 'replication'
    | 'min.insync.replicas'
    | 'cleanup.policy'
    | 'retention.ms'
    | 'max.message.bytes'
  expected: string
  actual: string
}

/** What a topic looks like on the cluster. */
export interface ObservedTopic {
  partitions: number
  /** Replica count of each partition. */
  replicas: number[]
  /** Partitions without a leader yet (a topic just created). */
  leaderless?: number
  configs: Record<string, string | undefined>
}

/** What {@link provisionTopics} did. */
export interface ProvisionResult {
  created: string[]
  verified: string[]
}

/**
 * Compares an existing topic with its spec: fewer partitions than the spec, another cleanup
 * policy, another retention, a smaller `max.message.bytes`, a partition with fewer replicas than
 * `durability.replicationFactor`, or an effective `min.insync.replicas` below
 * `durability.minInsyncReplicas` is a mismatch. More replicas or a higher minimum are accepted.
 */
export function compareTopic(
  spec: TopicSpec,
  observed: ObservedTopic,
  durability: TopicDurability = {},
): TopicMismatch[] {
  const { replicationFactor, minInsyncReplicas } = durability
  const out: TopicMismatch[] = []
  const add = (setting: TopicMismatch['setting'], expected: string, actual: string): void => {
    out.push({ topic: spec.name, setting, expected, actual })
  }
  if (observed.partitions < spec.partitions) {
    add('partitions', `at least ${spec.partitions}`, String(observed.partitions))
  }
  if (replicationFactor !== undefined && observed.replicas.some((r) => r < replicationFactor)) {
    add(
      'replication',
      `at least ${replicationFactor}`,
      [...new Set(observed.replicas)].sort((a, b) => a - b).join(','),
    )
  }
  if (minInsyncReplicas !== undefined) {
    const text = observed.configs['min.insync.replicas']
    if (!(Number(text ?? Number.NaN) >= minInsyncReplicas)) {
      add('min.insync.replicas', `at least ${minInsyncReplicas}`, text ?? '(unset)')
    }
  }
  const policy = observed.configs['cleanup.policy'] ?? '(unset)'
  if (policy !== spec.cleanupPolicy) add('cleanup.policy', spec.cleanupPolicy, policy)
  if (spec.retentionMs !== undefined) {
    const retention = observed.configs['retention.ms'] ?? '(unset)'
    if (retention !== String(spec.retentionMs)) {
      add('retention.ms', String(spec.retentionMs), retention)
    }
  }
  const maxBytes = Number(observed.configs['max.message.bytes'] ?? Number.NaN)
  if (!(maxBytes >= spec.maxMessageBytes)) {
    add(
      'max.message.bytes',
      `at least ${spec.maxMessageBytes}`,
      observed.configs['max.message.bytes'] ?? '(unset)',
    )
  }
  return out
}

/** {@link minInsyncFor} as a {@link TopicDurability} part, `{}` when nothing is required. */
function durabilityFloor(
  replicationFactor: number,
  configured: number | undefined,
): Pick<TopicDurability, 'minInsyncReplicas'> {
  const minInsyncReplicas = minInsyncFor(replicationFactor, configured)
  return minInsyncReplicas === undefined ? {} : { minInsyncReplicas }
}

// Node's ESM loader cannot see this export of the CommonJS kafkajs as a named import.
const { ConfigResourceTypes } = kafkajs

const CHECKED_CONFIGS = [
  'cleanup.policy',
  'retention.ms',
  'max.message.bytes',
  'min.insync.replicas',
]

async function brokerReplicationFactor(admin: Admin): Promise<number> {
  const cluster = await admin.describeCluster()
  const broker = cluster.brokers[0]
  if (!broker) throw new AppError('KAFKA_UNAVAILABLE', 'The cluster lists no broker')
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      {
        type: ConfigResourceTypes.BROKER,
        name: String(broker.nodeId),
        configNames: ['default.replication.factor'],
      },
    ],
  })
  const value = described.resources[0]?.configEntries.find(
    (entry) => entry.configName === 'default.replication.factor',
  )?.configValue
  return Math.min(Number(value ?? 1) || 1, cluster.brokers.length)
}

/**
 * {@link brokerReplicationFactor} for creating `missing`. A principal that may not read the
 * brokers' configuration (DESCRIBE_CONFIGS on the cluster) is told which topics it found missing:
 * on a cluster with ACLs they may exist and only be invisible to it.
 */
async function defaultReplicationFactor(
  admin: Admin,
  missing: readonly TopicSpec[],
): Promise<number> {
  try {
    return await brokerReplicationFactor(admin)
  } catch (error) {
    const mapped = toKafkaError(error, 'Reading default.replication.factor')
    if (mapped.code !== 'KAFKA_NOT_AUTHORIZED') throw mapped
    const names = missing.map((spec) => spec.name)
    throw new AppError(
      'KAFKA_NOT_AUTHORIZED',
      `Provisioning topics: ${names.length > 1 ? 'topics' : 'topic'} ${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} missing, or not visible to this principal (it needs DESCRIBE on each); ` +
        `creating them needs CREATE on each and the brokers' default.replication.factor, which this principal may not read (DESCRIBE_CONFIGS on the cluster): ` +
        'grant the ACLs (README: Production Kafka), or set KAFKA_REPLICATION_FACTOR',
      { cause: error, details: { resource: 'topic', topics: names } },
    )
  }
}

async function observe(admin: Admin, names: string[]): Promise<Map<string, ObservedTopic>> {
  const metadata = await admin.fetchTopicMetadata({ topics: names })
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: CHECKED_CONFIGS,
    })),
  })
  const observed = new Map<string, ObservedTopic>()
  for (const topic of metadata.topics) {
    observed.set(topic.name, {
      partitions: topic.partitions.length,
      replicas: topic.partitions.map((p) => p.replicas.length),
      leaderless: topic.partitions.filter((p) => !(p.leader >= 0)).length,
      configs: {},
    })
  }
  for (const resource of described.resources) {
    const topic = observed.get(resource.resourceName)
    if (!topic) continue
    for (const entry of resource.configEntries) topic.configs[entry.configName] = entry.configValue
  }
  return observed
}

/**
 * {@link observe}, retried until every topic is visible with a leader for each partition, or until
 * `timeoutMs`: right after a creation (here or by another process) KRaft brokers can answer
 * "unknown topic" or "no leader" for a moment, which kafkajs's `waitForLeaders` does not retry.
 */
async function observeSettled(
  admin: Admin,
  names: string[],
  timeoutMs: number,
): Promise<Map<string, ObservedTopic>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const observed = await observe(admin, names)
      const settled = names.every((name) => (observed.get(name)?.leaderless ?? 1) === 0)
      if (settled || Date.now() > deadline) return observed
    } catch (error) {
      if (!toKafkaError(error).retriable || Date.now() > deadline) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Creates the missing topics of `specs` (unless `create` is false) and verifies every topic's
 * partitions and settings. Safe to run twice and from several services at once: existing topics
 * are only verified, never altered, and a topic created concurrently by another process is simply
 * verified. Created topics get the spec's partitions, cleanup policy, retention and
 * `max.message.bytes`, the configured (else the broker's default, capped by the brokers)
 * replication factor, and `min.insync.replicas` as {@link minInsyncFor} says. Every topic must have
 * at least the configured replication factor and at least that `min.insync.replicas` (from its
 * own replication when no factor is configured): a topic of three replicas with a minimum of 1 is
 * reported, since a write acknowledged by one broker could be lost with it.
 *
 * @throws AppError `KAFKA_TOPIC_MISMATCH` listing every missing topic (when `create` is false) and
 * every setting that differs, in its message and in `details.mismatches`; `CONFIG_INVALID` when
 * `minInsyncReplicas` exceeds the replication factor; `KAFKA_UNAVAILABLE`, `KAFKA_AUTH_FAILED` or
 * `KAFKA_REQUEST_FAILED` when the cluster refuses.
 */
export async function provisionTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  options: ProvisionOptions,
): Promise<ProvisionResult> {
  const admin = kafka.admin({ retry: { retries: 5 } })
  const timeout = options.timeoutMs ?? 30_000
  try {
    await admin.connect()
    const existing = new Set(await admin.listTopics())
    const missing = specs.filter((spec) => !existing.has(spec.name))
    const mismatches: TopicMismatch[] = []
    const created: string[] = []
    if (missing.length > 0 && !options.create) {
      for (const spec of missing) {
        mismatches.push({ topic: spec.name, setting: 'exists', expected: 'yes', actual: 'missing' })
      }
    } else if (missing.length > 0) {
      const replicationFactor =
        options.replicationFactor ?? (await defaultReplicationFactor(admin, missing))
      const minInsync = minInsyncFor(replicationFactor, options.minInsyncReplicas)
      const madeNow = await admin.createTopics({
        waitForLeaders: false,
        timeout,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor,
          configEntries: [
            { name: 'cleanup.policy', value: spec.cleanupPolicy },
            { name: 'max.message.bytes', value: String(spec.maxMessageBytes) },
            ...(minInsync === undefined
              ? []
              : [{ name: 'min.insync.replicas', value: String(minInsync) }]),
            ...(spec.retentionMs === undefined
              ? []
              : [{ name: 'retention.ms', value: String(spec.retentionMs) }]),
          ],
        })),
      })
      // false: another process created some of them first; they are verified below all the same.
      if (madeNow) created.push(...missing.map((spec) => spec.name))
      options.logger?.info('kafka topics created', { topics: missing.map((s) => s.name) })
    }
    const present = specs.filter((spec) => options.create || existing.has(spec.name))
    const observed =
      present.length > 0
        ? await observeSettled(
            admin,
            present.map((s) => s.name),
            timeout,
          )
        : new Map<string, ObservedTopic>()
    for (const spec of present) {
      const topic = observed.get(spec.name)
      if (!topic) {
        mismatches.push({ topic: spec.name, setting: 'exists', expected: 'yes', actual: 'missing' })
        continue
      }
      // Without a configured factor, each topic is held to the minimum its own replication needs.
      const replicas = topic.replicas.length > 0 ? Math.min(...topic.replicas) : 0
      mismatches.push(
        ...compareTopic(spec, topic, {
          ...(options.replicationFactor === undefined
            ? {}
            : { replicationFactor: options.replicationFactor }),
          ...durabilityFloor(options.replicationFactor ?? replicas, options.minInsyncReplicas),
        }),
      )
      if (topic.leaderless) {
        throw new AppError(
          'KAFKA_UNAVAILABLE',
          `Topic ${spec.name} has ${topic.leaderless} partitions without a leader after ${timeout} ms`,
          { details: { topic: spec.name } },
        )
      }
    }
    if (mismatches.length > 0) {
      const lines = mismatches.map(
        (m) => `  - ${m.topic}: ${m.setting} is ${m.actual}, expected ${m.expected}`,
      )
      throw new AppError(
        'KAFKA_TOPIC_MISMATCH',
        `${mismatches.length} topic problem${mismatches.length === 1 ? '' : 's'}${options.create ? '' : ' (KAFKA_CREATE_TOPICS=false: topics are only verified)'}:\n${lines.join('\n')}`,
        { details: { mismatches } },
      )
    }
    return { created, verified: present.map((spec) => spec.name) }
  } catch (error) {
    throw toKafkaError(error, 'Provisioning topics', { topics: specs.map((s) => s.name) })
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
