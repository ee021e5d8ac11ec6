/*
 * The preflight: reads the product's configuration as the services do and checks, in order,
 * configuration, Kafka, Redis, the schema registry, each Wolkvox operation, the rules files and
 * the HTTP token files. It only reads: no topic, key, subject or ACL is written (a `--call` spends
 * one report call and counts it against the quota, as a poll would). Every check is bounded in
 * time; every detail passes through a redactor of the configured secrets.
 */
import { readConfig, readTokenFile, type Env } from '@wolkvox-chat-stream/config'
import { readKafkaConfig, type KafkaSettings } from '@wolkvox-chat-stream/kafka'
import { readRedisTarget, type RedisTarget } from '@wolkvox-chat-stream/redis'
import { createRedactor } from '@wolkvox-chat-stream/wolkvox-client'
import {
  readSchemaRegistrySettings,
  type SchemaRegistrySettings,
} from '@wolkvox-chat-stream/schema-registry'
import { configChecks, readProductConfig, serviceNames, type ProductConfig } from './configs.js'
import { checkHttpTokens, checkRules } from './file-checks.js'
import {
  checkKafkaAcls,
  checkKafkaConnection,
  checkKafkaTopics,
  expectedTopics,
  type KafkaSession,
} from './kafka-checks.js'
import { checkRedis } from './redis-checks.js'
import { checkRegistry } from './registry-checks.js'
import {
  bounded,
  describeError,
  failed,
  redactResult,
  skipped,
  type CheckResult,
} from './result.js'
import { checkWolkvoxCall, checkWolkvoxHost } from './wolkvox-checks.js'

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** The environment the services read. */
  env: Env
  /** Where a relative rules path is resolved from (the services use npm's `INIT_CWD`). */
  cwd?: string
  /** `--call`: one real report call per operation, through the token lock. */
  call?: boolean
  /** The bound of each check. Default 5000 ms (a `--call`: three times that). */
  timeoutMs?: number
  /** Called with each result as soon as it is known (the CLI prints as it goes). */
  onResult?: (result: CheckResult) => void
}

/** A reader's value, or its error. */
function attempt<T>(read: () => T): { value?: T; error?: unknown } {
  try {
    return { value: read() }
  } catch (error) {
    return { error }
  }
}

/**
 * Every secret of the configuration, to redact from whatever the checks say: passwords, tokens,
 * keys, whatever file they came from.
 */
function secretsOf(
  env: Env,
  config: ProductConfig,
  kafka: KafkaSettings | undefined,
  redis: RedisTarget | undefined,
  registry: SchemaRegistrySettings | undefined,
): string[] {
  const secrets: string[] = []
  if (kafka?.sasl) secrets.push(kafka.sasl.password.reveal())
  if (kafka?.tls?.key) secrets.push(kafka.tls.key.reveal())
  if (redis?.password) secrets.push(redis.password.reveal())
  if (registry?.password) secrets.push(registry.password.reveal())
  if (config.poller.ok) {
    for (const op of config.poller.value.operations) secrets.push(op.token.reveal())
    if (config.poller.value.privacy.hashKey)
      secrets.push(config.poller.value.privacy.hashKey.reveal())
  }
  for (const name of ['WOLKVOX_TOKEN', 'KAFKA_SASL_PASSWORD', 'POLL_HASH_KEY']) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') secrets.push(value, value.trim())
  }
  for (const name of ['HTTP_AUTH_TOKEN_FILE', 'DASHBOARD_UPSTREAM_TOKEN_FILE']) {
    const file = env[name]?.trim()
    if (file === undefined || file === '') continue
    const tokens = readTokenFile(file)
    if (Array.isArray(tokens)) secrets.push(...tokens)
  }
  return secrets
}

/**
 * Runs every check in order and returns one result per line of the report.
 * Never throws: a check that throws or runs out of time is a failed result.
 */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const { env } = options
  const timeoutMs = options.timeoutMs ?? 5_000
  const config = readProductConfig(env, options.cwd ?? env.INIT_CWD ?? process.cwd())
  const names = serviceNames(config)
  const kafka = attempt(() => readKafkaConfig(env, 'wolkvox-doctor'))
  const redis = attempt(() => readConfig(env, (r) => readRedisTarget(r)))
  const registry = attempt(() => readConfig(env, (r) => readSchemaRegistrySettings(r) ?? {}))
  const registrySettings =
    registry.value !== undefined && 'url' in registry.value
      ? (registry.value as SchemaRegistrySettings)
      : undefined
  const redact = createRedactor(secretsOf(env, config, kafka.value, redis.value, registrySettings))
  const results: CheckResult[] = []
  const add = (...found: CheckResult[]): void => {
    for (const r of found) {
      const safe = redactResult(r, redact)
      results.push(safe)
      options.onResult?.(safe)
    }
  }
  const invalid = (check: string, error: unknown, variables: string): CheckResult =>
    failed(check, describeError(error), `set ${variables} correctly (see the configuration lines)`)

  // 1. configuration
  add(...configChecks(config))

  // 2. Kafka
  if (kafka.value === undefined) {
    add(
      invalid('kafka connection', kafka.error, 'the KAFKA_* variables'),
      skipped('kafka topics', 'not checked (no connection)'),
      skipped('kafka acls', 'not checked (no connection)'),
    )
  } else {
    const settings = kafka.value
    let session: KafkaSession | undefined
    try {
      const connection = await bounded(
        'kafka connection',
        timeoutMs,
        () => checkKafkaConnection(settings, timeoutMs, (s) => (session = s)),
        {
          fix: `check that KAFKA_BROKERS (${settings.brokers.join(',')}) names running brokers reachable from here, with the listener's TLS and SASL settings`,
        },
      )
      add(...connection)
      // A connection that came after the bound is not used (the CLI exits when done).
      const admin = connection[0]?.status === 'pass' ? session?.admin : undefined
      if (admin === undefined) {
        add(
          skipped('kafka topics', 'not checked (no connection)'),
          skipped('kafka acls', 'not checked (no connection)'),
        )
      } else {
        const fix = {
          fix: 'the cluster answered the connection but not this request: check its health',
        }
        add(
          ...(await bounded(
            'kafka topics',
            timeoutMs,
            () => checkKafkaTopics(admin, settings, expectedTopics(names)),
            fix,
          )),
        )
        add(
          ...(await bounded(
            'kafka acls',
            timeoutMs,
            () => checkKafkaAcls(admin, settings, names),
            fix,
          )),
        )
      }
    } finally {
      await session?.close()
    }
  }

  // 3. Redis
  if (redis.value === undefined) {
    add(
      invalid(
        'redis connection',
        redis.error,
        'REDIS_URL or REDIS_CLUSTER_NODES and the REDIS_* variables',
      ),
      skipped('redis maxmemory-policy', 'not checked (no connection)'),
      skipped('redis cluster slots', 'not checked (no connection)'),
    )
  } else {
    const target = redis.value
    // waitUntilReady gets the bound itself; the outer one is a little longer, for the reads (and,
    // on a cluster that never became ready, for asking its nodes why).
    add(
      ...(await bounded(
        'redis connection',
        timeoutMs + 4_000,
        () => checkRedis(target, timeoutMs),
        {
          fix: 'check that REDIS_URL (or REDIS_CLUSTER_NODES) names a Redis reachable from here',
        },
      )),
    )
  }

  // 4. the schema registry
  if (registry.value === undefined) {
    add(
      invalid('schema registry', registry.error, 'the SCHEMA_REGISTRY_* variables'),
      skipped('schema registry subjects', 'not checked (no registry)'),
    )
  } else {
    add(
      ...(await bounded(
        'schema registry',
        timeoutMs * 2,
        () => checkRegistry(registrySettings, names, timeoutMs),
        { fix: 'check SCHEMA_REGISTRY_URL, or unset it for single-object encoding' },
      )),
    )
  }

  // 5. Wolkvox, per operation
  if (!config.poller.ok) {
    add(skipped('wolkvox', "not checked (the poller's configuration is invalid)"))
  } else {
    const poller = config.poller.value
    for (const operation of poller.operations) {
      add(
        ...(await bounded(
          `wolkvox ${operation.server}`,
          timeoutMs + 1_000,
          () => checkWolkvoxHost(operation, timeoutMs),
          { fix: "check WOLKVOX_BASE_URL or this machine's DNS and outbound HTTPS" },
        )),
      )
      if (options.call === true) {
        const callMs = timeoutMs * 3
        add(
          ...(await bounded(
            `wolkvox ${operation.server} report call`,
            callMs + 7_000,
            () => checkWolkvoxCall(poller, operation, callMs),
            { fix: 'the upstream or the token lock did not answer in time: try again later' },
          )),
        )
      }
    }
  }

  // 6. rules files, 7. HTTP token files
  add(...checkRules(config))
  add(...checkHttpTokens(env))
  return results
}
