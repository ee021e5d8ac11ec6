/*
 * Check 2: Kafka reachable and authenticated, the product's topics as they are provisioned, and
 * the ACLs each service needs. Everything here only reads: metadata, topic configs, ACL lists.
 */
import { consumerServiceAcls, pollerAcls } from '@wolkvox-chat-stream/dev-stack'
import { dlqTopic, topics } from '@wolkvox-chat-stream/events'
import {
  compareTopic,
  createKafkaClient,
  minInsyncFor,
  toKafkaError,
  type Admin,
  type KafkaSettings,
  type ObservedTopic,
  type TopicMismatch,
  type TopicSpec,
} from '@wolkvox-chat-stream/kafka'
import { grantCommand, missingAcls, type DescribedAcl } from './acls.js'
import type { ServiceNames } from './configs.js'
import { failed, passed, skipped, warned, type CheckResult } from './result.js'

/** An admin connection shared by the Kafka checks. */
export interface KafkaSession {
  admin: Admin
  close(): Promise<void>
}

/** What to do about a refused or failed connection, by the error's code. */
function connectionFix(code: string, settings: KafkaSettings): string {
  switch (code) {
    case 'KAFKA_AUTH_FAILED':
      return 'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD) against the user on the cluster'
    case 'KAFKA_TLS_FAILED':
      return "check KAFKA_SSL_CA_FILE (the CA of the brokers' certificates), KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE, and that KAFKA_BROKERS names the hosts in the certificates"
    default:
      return `check that KAFKA_BROKERS (${settings.brokers.join(',')}) names running brokers reachable from here${settings.ssl ? '' : ', and set KAFKA_SSL=true if the listener speaks TLS'}`
  }
}

/**
 * `kafka connection`: connects an admin client (SASL and TLS as configured) and describes the
 * cluster. Returns the session for the next checks when it passed.
 */
export async function checkKafkaConnection(
  settings: KafkaSettings,
  timeoutMs: number,
  keep: (session: KafkaSession) => void,
): Promise<CheckResult> {
  const name = 'kafka connection'
  // kafkajs retries a refused connection by itself for longer than the bound: its last error is
  // kept from its log, so a failure says why, not only that the time ran out.
  let lastError: string | undefined
  const admin = createKafkaClient({
    ...settings,
    clientId: 'wolkvox-doctor',
    connectionTimeoutMs: Math.min(3_000, timeoutMs),
    requestTimeoutMs: timeoutMs,
    logLevel: 'error',
    log: ({ message, fields }) => {
      const error = fields.error
      lastError = typeof error === 'string' && error !== '' ? error : message
    },
  }).admin({ retry: { retries: 0 } })
  const close = (): Promise<void> => admin.disconnect().catch(() => undefined)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(100, timeoutMs - 250))
  })
  try {
    const cluster = await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      deadline,
    ])
    if (cluster === 'timeout') {
      void close()
      return failed(
        name,
        `KAFKA_UNAVAILABLE: not connected to ${settings.brokers.join(',')} within ${timeoutMs} ms${lastError === undefined ? '' : ` (last error: ${lastError})`}`,
        connectionFix('KAFKA_UNAVAILABLE', settings),
      )
    }
    keep({ admin, close })
    const how = [
      settings.ssl ? 'TLS' : 'plaintext',
      ...(settings.sasl ? [`SASL ${settings.sasl.mechanism} as ${settings.sasl.username}`] : []),
    ].join(', ')
    return passed(
      name,
      `${cluster.brokers.length} broker${cluster.brokers.length === 1 ? '' : 's'} at ${settings.brokers.join(',')}, ${how}`,
    )
  } catch (error) {
    await close()
    const mapped = toKafkaError(error, 'Connecting to Kafka')
    return failed(name, `${mapped.code}: ${mapped.message}`, connectionFix(mapped.code, settings))
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The topics the deployment uses, with the settings they are provisioned with: the contract's
 * (`productTopics`, output names as configured) and each consumer's dead-letter topic.
 */
export function expectedTopics(names: ServiceNames): TopicSpec[] {
  const specs: TopicSpec[] = [
    topics.chatMessage,
    topics.pollerCheckpoint,
    topics.pollerDlq,
    topics.agentSentiment,
    { ...topics.chatTramite, name: names.classifierOutput },
    { ...topics.chatTramite, name: names.qualityTramites },
    { ...topics.chatQuality, name: names.qualityOutput },
    dlqTopic(names.sentiment),
    dlqTopic(names.classifier),
    dlqTopic(names.quality),
    dlqTopic(`${names.quality}-tramites`),
  ]
  const seen = new Set<string>()
  return specs.filter((s) => !seen.has(s.name) && seen.add(s.name))
}

const CHECKED_CONFIGS = [
  'cleanup.policy',
  'retention.ms',
  'max.message.bytes',
  'min.insync.replicas',
]
/** kafkajs `ConfigResourceTypes.TOPIC` (only packages/kafka imports kafkajs). */
const TOPIC_RESOURCE = 2

async function observe(admin: Admin, names: string[]): Promise<Map<string, ObservedTopic>> {
  const observed = new Map<string, ObservedTopic>()
  if (names.length === 0) return observed
  const metadata = await admin.fetchTopicMetadata({ topics: names })
  for (const topic of metadata.topics) {
    observed.set(topic.name, {
      partitions: topic.partitions.length,
      replicas: topic.partitions.map((p) => p.replicas.length),
      configs: {},
    })
  }
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({
      type: TOPIC_RESOURCE,
      name,
      configNames: CHECKED_CONFIGS,
    })),
  })
  for (const resource of described.resources) {
    const topic = observed.get(resource.resourceName)
    if (!topic) continue
    for (const entry of resource.configEntries) topic.configs[entry.configName] = entry.configValue
  }
  return observed
}

/**
 * How one existing topic differs from its spec, held to `KAFKA_REPLICATION_FACTOR` when set and to
 * the `min.insync.replicas` its replication needs (the rules of `provisionTopics`). A configured
 * `KAFKA_MIN_INSYNC_REPLICAS` above the replicas a topic has (with no replication factor
 * configured) is that topic's replication falling short: no write with acks=all could succeed on
 * it, and the services refuse to start.
 */
export function topicMismatches(
  spec: TopicSpec,
  topic: ObservedTopic,
  settings: Pick<KafkaSettings, 'replicationFactor' | 'minInsyncReplicas'>,
): TopicMismatch[] {
  const replicas = topic.replicas.length > 0 ? Math.min(...topic.replicas) : 0
  const { replicationFactor, minInsyncReplicas } = settings
  if (
    replicationFactor === undefined &&
    minInsyncReplicas !== undefined &&
    minInsyncReplicas > replicas
  ) {
    return [
      {
        topic: spec.name,
        setting: 'replication',
        expected: `at least ${minInsyncReplicas} (KAFKA_MIN_INSYNC_REPLICAS)`,
        actual: String(replicas),
      },
      // Its other settings all the same; not its min.insync.replicas: raising it is no fix.
      ...compareTopic(spec, topic).filter((m) => m.setting !== 'min.insync.replicas'),
    ]
  }
  const minInsync = minInsyncFor(replicationFactor ?? replicas, minInsyncReplicas)
  return compareTopic(spec, topic, {
    ...(replicationFactor === undefined ? {} : { replicationFactor }),
    ...(minInsync === undefined ? {} : { minInsyncReplicas: minInsync }),
  })
}

/** The fix of one kind of mismatch, as the command that makes it right. */
export function mismatchFix(
  m: TopicMismatch,
  spec: TopicSpec | undefined,
  user: string | undefined,
): string {
  switch (m.setting) {
    case 'exists':
      return `start the services once with KAFKA_CREATE_TOPICS=true (each provisions its topics), or create ${m.topic} as README: Production Kafka lists${user === undefined ? '' : `; or run the doctor as a principal that may describe every topic (${user} sees only its own)`}`
    case 'partitions':
      return `kafka-topics.sh --alter --topic ${m.topic} --partitions ${spec?.partitions ?? '<n>'}`
    case 'cleanup.policy':
    case 'retention.ms':
    case 'max.message.bytes':
    case 'min.insync.replicas': {
      const wanted =
        m.setting === 'cleanup.policy'
          ? spec?.cleanupPolicy
          : m.setting === 'retention.ms'
            ? spec?.retentionMs
            : m.setting === 'max.message.bytes'
              ? spec?.maxMessageBytes
              : m.expected.replace('at least ', '')
      return `kafka-configs.sh --alter --entity-type topics --entity-name ${m.topic} --add-config ${m.setting}=${String(wanted)}`
    }
    case 'replication':
      return m.expected.endsWith('(KAFKA_MIN_INSYNC_REPLICAS)')
        ? `add replicas to ${m.topic} (kafka-reassign-partitions.sh), or lower KAFKA_MIN_INSYNC_REPLICAS to ${m.actual}`
        : `add replicas to ${m.topic} (kafka-reassign-partitions.sh), or set KAFKA_REPLICATION_FACTOR to what it has`
  }
}

/**
 * `kafka topics`: every expected topic exists with at least its partitions, its cleanup policy,
 * retention and `max.message.bytes`, the configured replication and `min.insync.replicas` (the
 * rules of `provisionTopics`, which only verifies with `KAFKA_CREATE_TOPICS=false`).
 */
export async function checkKafkaTopics(
  admin: Admin,
  settings: KafkaSettings,
  specs: readonly TopicSpec[],
): Promise<CheckResult> {
  const name = 'kafka topics'
  try {
    const existing = new Set(await admin.listTopics())
    const present = specs.filter((s) => existing.has(s.name))
    const mismatches: TopicMismatch[] = specs
      .filter((s) => !existing.has(s.name))
      .map((s) => ({ topic: s.name, setting: 'exists', expected: 'yes', actual: 'missing' }))
    const observed = await observe(
      admin,
      present.map((s) => s.name),
    )
    for (const spec of present) {
      const topic = observed.get(spec.name)
      if (topic === undefined) continue
      mismatches.push(...topicMismatches(spec, topic, settings))
    }
    if (mismatches.length === 0) return passed(name, `${specs.length} topics as provisioned`)
    const bySpec = new Map(specs.map((s) => [s.name, s]))
    // A principal sees only the topics it may describe: a topic it cannot see may exist.
    const user = settings.sasl?.username
    const what = mismatches.map((m) =>
      m.setting === 'exists'
        ? `${m.topic} is missing${user === undefined ? '' : ` or not visible to ${user}`}`
        : `${m.topic}: ${m.setting} is ${m.actual}, expected ${m.expected}`,
    )
    const fixes = [...new Set(mismatches.map((m) => mismatchFix(m, bySpec.get(m.topic), user)))]
    return failed(name, what.join('; '), fixes.join('; '))
  } catch (error) {
    const mapped = toKafkaError(error, 'Describing the topics')
    return failed(
      name,
      `${mapped.code}: ${mapped.message}`,
      mapped.code === 'KAFKA_NOT_AUTHORIZED'
        ? `grant DESCRIBE and DESCRIBE_CONFIGS on the topics to ${settings.sasl?.username ?? 'this principal'}, or run the doctor as an administrator's principal`
        : connectionFix(mapped.code, settings),
    )
  }
}

/** kafkajs's ANY filter values (AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes). */
const ANY = 1

/**
 * `kafka acls`: lists the cluster's ACLs (`describeAcls`, read only) and compares them with what
 * each service's principal needs (`productAcls` with the configured names). A cluster without an
 * authorizer allows everything (skipped); a principal that may not describe ACLs cannot verify
 * them (a warning: not a pass).
 */
export async function checkKafkaAcls(
  admin: Admin,
  settings: KafkaSettings,
  names: ServiceNames,
): Promise<CheckResult> {
  const name = 'kafka acls'
  const required = [
    pollerAcls(),
    consumerServiceAcls({ name: names.sentiment, outputs: [topics.agentSentiment.name] }),
    consumerServiceAcls({
      name: names.classifier,
      outputs: [names.classifierOutput],
    }),
    consumerServiceAcls({
      name: names.quality,
      outputs: [names.qualityOutput],
      companions: [{ name: `${names.quality}-tramites`, input: names.qualityTramites }],
    }),
  ]
  let described: DescribedAcl[]
  try {
    const answer = await admin.describeAcls({
      resourceType: ANY,
      resourcePatternType: ANY,
      operation: ANY,
      permissionType: ANY,
    })
    described = answer.resources.flatMap((r) =>
      r.acls.map((acl) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        resourcePatternType: r.resourcePatternType,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
      })),
    )
  } catch (error) {
    const type = (error as { type?: unknown }).type
    if (type === 'SECURITY_DISABLED') {
      return skipped(
        name,
        'not configured (the cluster has no authorizer: every principal may do everything)',
      )
    }
    const mapped = toKafkaError(error, 'Describing the ACLs')
    if (mapped.code === 'KAFKA_NOT_AUTHORIZED') {
      return warned(
        name,
        `could not be checked: ${settings.sasl?.username ?? 'this principal'} may not describe the cluster's ACLs`,
        "run the doctor with an administrator's KAFKA_SASL_USERNAME (DESCRIBE on the cluster) to verify the ACLs",
      )
    }
    return failed(name, `${mapped.code}: ${mapped.message}`, connectionFix(mapped.code, settings))
  }
  const missing = missingAcls(required, described)
  if (missing.length === 0) {
    return passed(name, `${required.length} principals have what their services need`)
  }
  return failed(
    name,
    missing
      .map((m) => `${m.principal} lacks ${m.operations.join(', ')} on ${m.resource}`)
      .join('; '),
    `grant them (README: Production Kafka): ${missing.map(grantCommand).join('; ')}`,
  )
}
