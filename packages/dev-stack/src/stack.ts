import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { dlqTopic, productTopics } from '@wolkvox-chat-stream/events'
import { createKafkaClient, provisionTopics } from '@wolkvox-chat-stream/kafka'
import {
  createRedis,
  pingRedis,
  readRedisTarget,
  redactRedisUrl,
  type RedisAddress,
} from '@wolkvox-chat-stream/redis'
import { markRedisInitialised } from '@wolkvox-chat-stream/token-lock'
import { terminate } from './child.js'
import { grantAcls, productAcls } from './kafka-acls.js'
import { ADMIN_USER, clientEnv } from './kafka-security.js'
import { startKafkaBroker, type KafkaBrokerOptions, type LocalKafka } from './kafka-broker.js'
import { startKafkaCluster, type KafkaCluster, type KafkaClusterOptions } from './kafka-cluster.js'
import { devStackHome } from './paths.js'
import { isPortFree } from './ports.js'
import { isAlive, isOurProcess, listProcesses, unregisterProcess } from './process-registry.js'
import { startRedisCluster, type RedisCluster } from './redis-cluster.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import {
  findJava,
  registryJavaMajor,
  schemaRegistryVersionFromEnv,
  startSchemaRegistry,
  type SchemaRegistry,
} from './schema-registry.js'

/** The product's Redis user in a stack's Redis Cluster (ACL `PRODUCT_REDIS_ACL`). */
export const STACK_REDIS_USER = 'wcs'

/** A Redis Cluster of 3 masters and 3 replicas with the user {@link STACK_REDIS_USER}. */
export interface StackRedisClusterOptions {
  /** TLS on every port, from a private CA (`REDIS_TLS_CA_FILE`). Default false. */
  tls?: boolean
}

/**
 * `--redis-cluster` among `args`, else `REDIS_CLUSTER`: a Redis Cluster instead of one Redis, with
 * TLS for `--redis-tls`, else `REDIS_TLS`; undefined for one Redis.
 * @throws AppError `CONFIG_INVALID` for TLS without a cluster, for a cluster while `REDIS_URL`
 *   names a Redis, or for a flag variable that is not a boolean.
 */
export function redisClusterFromArgs(
  args: readonly string[],
  env: Env = process.env,
): StackRedisClusterOptions | undefined {
  return readConfig(env, (r) => {
    const cluster = args.includes('--redis-cluster') || r.boolean('REDIS_CLUSTER', false)
    const tls = args.includes('--redis-tls') || r.boolean('REDIS_TLS', false)
    if (!cluster) {
      if (tls) {
        r.report(
          args.includes('--redis-tls') ? '--redis-tls' : 'REDIS_TLS',
          'applies to a Redis Cluster: add --redis-cluster (or REDIS_CLUSTER=true)',
        )
      }
      return { options: undefined }
    }
    if (r.string('REDIS_URL') !== undefined) {
      r.report(
        'REDIS_URL',
        'names one Redis, while --redis-cluster (REDIS_CLUSTER) starts a cluster: unset REDIS_URL, or leave out --redis-cluster to use that Redis',
      )
    }
    return { options: { tls } }
  }).options
}

/**
 * `--registry` among `args`, else `SCHEMA_REGISTRY`: whether `stack:up` also starts an Apicurio
 * Registry (`startSchemaRegistry`) and prints `SCHEMA_REGISTRY_URL`.
 * @throws AppError `CONFIG_INVALID` for a `SCHEMA_REGISTRY` that is not a boolean.
 */
export function schemaRegistryFromArgs(args: readonly string[], env: Env = process.env): boolean {
  return readConfig(env, (r) => ({
    on: r.boolean('SCHEMA_REGISTRY', false) || args.includes('--registry'),
  })).on
}

/** What {@link startPrivateStack} starts. */
export interface PrivateStackOptions {
  kafka?: KafkaBrokerOptions
  cluster?: KafkaClusterOptions
  /** A Redis Cluster (3 masters, 3 replicas, user {@link STACK_REDIS_USER}) instead of a redis-server. */
  redisCluster?: StackRedisClusterOptions
  home?: string
}

/** What every {@link startPrivateStack} has: its Kafka, and how a client reaches its Redis. */
export interface PrivateStackBase {
  kafka: LocalKafka
  /**
   * The same Kafka as a cluster, when it has more than one node or is secured (then
   * `cluster.security` says how to connect).
   */
  cluster?: KafkaCluster
  kafkaBrokers: string
  /**
   * The Redis client variables: `REDIS_URL` for the redis-server; for a Redis Cluster those of
   * `redisCluster.env('wcs')` (REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD_FILE, and
   * REDIS_TLS, REDIS_TLS_CA_FILE with TLS).
   */
  redisEnv: Record<string, string>
  stop(): Promise<void>
}

/** A Kafka (one broker or a cluster) and a redis-server for one test run (private, on free ports, removed by `stop`). */
export interface PrivateStack extends PrivateStackBase {
  redis: RedisServer
  redisUrl: string
  redisCluster?: undefined
}

/** A Kafka and a Redis Cluster: no redis-server (`redis` is absent, `redisUrl` is ''). */
export interface PrivateRedisClusterStack extends PrivateStackBase {
  redis?: undefined
  redisUrl: ''
  redisCluster: RedisCluster
}

/**
 * Starts a private Kafka and a private redis-server on free ports, both at once: a single broker
 * (`kafka`), or a cluster when `cluster.nodes` is more than 1 or `cluster.secure` is set (a
 * secured Kafka is always a cluster, of one node if asked). With `redisCluster`, a Redis Cluster
 * of 3 masters and 3 replicas (user {@link STACK_REDIS_USER}, TLS if asked) instead of the
 * redis-server. Nothing is left running on failure.
 */
export function startPrivateStack(
  options: PrivateStackOptions & { redisCluster: StackRedisClusterOptions },
): Promise<PrivateRedisClusterStack>
export function startPrivateStack(
  options?: PrivateStackOptions & { redisCluster?: undefined },
): Promise<PrivateStack>
export function startPrivateStack(
  options?: PrivateStackOptions,
): Promise<PrivateStack | PrivateRedisClusterStack>
export async function startPrivateStack(
  options: PrivateStackOptions = {},
): Promise<PrivateStack | PrivateRedisClusterStack> {
  const home = options.home ?? devStackHome()
  const clustered = (options.cluster?.nodes ?? 1) > 1 || options.cluster?.secure === true
  const [kafka, redis] = await Promise.allSettled([
    clustered
      ? startKafkaCluster({ home, ...options.cluster })
      : startKafkaBroker({ home, ...options.kafka }),
    options.redisCluster
      ? startRedisCluster({
          home,
          tls: options.redisCluster.tls ?? false,
          users: [STACK_REDIS_USER],
        })
      : startRedisServer({ home }),
  ])
  if (kafka.status === 'rejected' || redis.status === 'rejected') {
    if (kafka.status === 'fulfilled') await kafka.value.stop()
    if (redis.status === 'fulfilled') await redis.value.stop()
    throw kafka.status === 'rejected' ? kafka.reason : (redis as PromiseRejectedResult).reason
  }
  const base = {
    kafka: kafka.value,
    ...(clustered ? { cluster: kafka.value as KafkaCluster } : {}),
    kafkaBrokers: kafka.value.brokers,
    stop: async () => {
      await Promise.all([kafka.value.stop(), redis.value.stop()])
    },
  }
  const started = redis.value
  if ('seeds' in started) {
    return {
      ...base,
      redisUrl: '',
      redisCluster: started,
      redisEnv: started.env(STACK_REDIS_USER),
    }
  }
  return { ...base, redis: started, redisUrl: started.url, redisEnv: { REDIS_URL: started.url } }
}

/** What `stack:up` left running, kept in `<home>/stack.json` for `stack:down`. */
export interface StackState {
  kafkaBrokers: string
  /** The Redis to use; '' when the stack runs a Redis Cluster (`redisCluster`). */
  redisUrl: string
  /** `pid` is the first node's; `nodes` lists every node of a cluster (absent for one broker). */
  kafka: {
    pid: number
    workDir: string
    version: string
    /** The broker's log (of the first node for a cluster; absent in states of older versions). */
    logFile?: string
    nodes?: { nodeId: number; pid: number; brokers: string; logFile?: string }[]
    /** Present for a secured cluster: what a client needs (files and users; never a password). */
    security?: StackSecurity
  }
  /** Present only when stack:up started its own redis-server. */
  redis?: { pid: number; workDir: string }
  /**
   * Present only when stack:up started a Redis Cluster (`--redis-cluster`): every node, the
   * cluster's folder, and the client variables of user {@link STACK_REDIS_USER} (never a password).
   */
  redisCluster?: {
    workDir: string
    nodes: { port: number; pid: number }[]
    env: Record<string, string>
  }
  /** Present only when stack:up started an Apicurio Registry (`--registry`). */
  schemaRegistry?: {
    pid: number
    workDir: string
    /** `http://127.0.0.1:<port>` */
    url: string
    /** The Confluent-compatible API, `<url>/apis/ccompat/v7`: `SCHEMA_REGISTRY_URL`. */
    ccompatUrl: string
    managementPort: number
    version: string
  }
  startedAt: string
}

/** How a client reaches the secured cluster of `stack:up --secure`. */
export interface StackSecurity {
  caFile: string
  clientCertFile: string
  clientKeyFile: string
  /**
   * The SCRAM-SHA-512 users: `admin`, `poller`, `sentiment-aggregator`, `tramite-classifier`,
   * `chat-quality`.
   */
  users: string[]
  /** Each user's password file (0600). */
  passwordFiles: Record<string, string>
}

/**
 * The log of each Kafka process of the stack that is no longer `alive`, to show why it ended: a
 * single broker's log, or each dead node's own log (a cluster has no log of its own).
 */
export function deadKafkaLogs(
  state: StackState,
  alive: (pid: number) => boolean,
): { who: string; logFile: string }[] {
  const { kafka } = state
  if (kafka.nodes === undefined)
    return alive(kafka.pid)
      ? []
      : [{ who: 'the broker', logFile: kafka.logFile ?? join(kafka.workDir, 'server.log') }]
  return kafka.nodes.flatMap((n) =>
    alive(n.pid) || n.logFile === undefined
      ? []
      : [{ who: `node ${n.nodeId}`, logFile: n.logFile }],
  )
}

/**
 * The variables a service exports to connect to the stack's secured cluster as `user` (the
 * password as a file path), or the plain `KAFKA_BROKERS` when the stack is not secured.
 * @throws RangeError for a user the stack's cluster does not have.
 */
export function stackKafkaEnv(state: StackState, user = 'poller'): Record<string, string> {
  const security = state.kafka.security
  if (!security) return { KAFKA_BROKERS: state.kafkaBrokers }
  const passwordFile = security.passwordFiles[user]
  if (passwordFile === undefined) {
    throw new RangeError(`The stack's cluster has no SCRAM user "${user}"`)
  }
  return clientEnv({
    brokers: state.kafkaBrokers,
    ...security,
    user,
    passwordFile,
    replicationFactor: Math.min(3, state.kafka.nodes?.length ?? 1),
  })
}

/**
 * The Redis variables a service exports to use the stack's Redis: `REDIS_URL`, or for a Redis
 * Cluster REDIS_CLUSTER_NODES, REDIS_USERNAME, REDIS_PASSWORD_FILE (+ REDIS_TLS, REDIS_TLS_CA_FILE).
 */
export function stackRedisEnv(state: StackState): Record<string, string> {
  return state.redisCluster ? { ...state.redisCluster.env } : { REDIS_URL: state.redisUrl }
}

/** `SCHEMA_REGISTRY_URL` (the Confluent-compatible API) when the stack runs a registry; else none. */
export function stackSchemaRegistryEnv(state: StackState): Record<string, string> {
  return state.schemaRegistry ? { SCHEMA_REGISTRY_URL: state.schemaRegistry.ccompatUrl } : {}
}

const stateFile = (home: string): string => join(home, 'stack.json')

export function readStackState(home: string = devStackHome()): StackState | null {
  const file = stateFile(home)
  if (!existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackState
  } catch {
    return null
  }
}

/** Options for {@link stackUp}. */
export interface StackUpOptions {
  home?: string
  /**
   * The Redis to use, exactly this one (`REDIS_URL` when set explicitly): it must answer. Unset (or
   * ''): a redis-server of the stack's own is started, on 6379 when free, else on a free port; a
   * Redis that happens to answer on 6379 is never used.
   */
  redisUrl?: string
  /**
   * A Redis Cluster of 3 masters and 3 replicas (`startRedisCluster`, user
   * {@link STACK_REDIS_USER}, on free ports) instead of using or starting one Redis; not with
   * `redisUrl`.
   */
  redisCluster?: StackRedisClusterOptions
  kafkaVersion?: string
  /** Kafka nodes: 1 (default) a single broker, more a cluster (see `kafka-cluster.ts`). */
  brokers?: number
  /**
   * A secured cluster (`startKafkaCluster({ secure: true })`, even of one node): the product
   * topics are then provisioned as `admin` and the product principals' ACLs granted.
   */
  secure?: boolean
  /** Also an Apicurio Registry (`startSchemaRegistry`, in memory, free ports), started beside Kafka. */
  schemaRegistry?: boolean
  onProgress?: (line: string) => void
}

/**
 * Starts the local Kafka broker (port 9092 when free), or with `brokers` > 1 (or `secure`) a
 * cluster (ports 9092, 9093… when free), and, unless `redisUrl` names a Redis to use, a
 * redis-server of its own (6379 when free, else a free port), or with `redisCluster` a Redis
 * Cluster (free ports), and with `schemaRegistry` an
 * Apicurio Registry (free ports, started while Kafka starts), all detached so they outlive the
 * command. A secured cluster gets the product topics (and the consumer services' dead-letter
 * topics), provisioned as `admin`, and the ACLs of `productAcls()`. Idempotent: a stack already up
 * is reported, not started twice (whatever `brokers`, `secure`, `redisCluster` and
 * `schemaRegistry` say; `stack:down` first to change it).
 * A Redis the stack starts is marked initialised for the token lock (`markRedisInitialised`): it
 * is new, so the first lease on it need not wait one TTL.
 * @throws AppError `CONFIG_INVALID` for `redisCluster` with a `redisUrl`; `REDIS_UNAVAILABLE`
 *   when the Redis `redisUrl` names does not answer, before anything starts;
 *   `DEV_STACK_PREREQUISITE_MISSING` for a registry without a Java it runs on, before anything
 *   starts; `DEV_STACK_REGISTRY_START_FAILED` (the rest of the stack stopped again).
 */
export async function stackUp(
  options: StackUpOptions = {},
): Promise<StackState & { reused: boolean }> {
  const home = options.home ?? devStackHome()
  const progress = options.onProgress ?? (() => undefined)
  if (options.redisCluster && options.redisUrl !== undefined && options.redisUrl !== '') {
    throw new AppError(
      'CONFIG_INVALID',
      'A Redis Cluster was asked for while REDIS_URL names a Redis: unset REDIS_URL, or leave out --redis-cluster to use that Redis',
      { retriable: false },
    )
  }
  const existing = readStackState(home)
  if (existing && isAlive(existing.kafka.pid)) return { ...existing, reused: true }
  // The registry's Java (21 for 3.x) is checked before anything starts.
  if (options.schemaRegistry) findJava(registryJavaMajor(schemaRegistryVersionFromEnv()))
  const givenRedis = options.redisUrl === '' ? undefined : options.redisUrl
  // A Redis named explicitly is used as is, and must answer; anything else that answers (another
  // project's Redis on 6379) is never used: its keys are not ours to mix with.
  if (givenRedis !== undefined && !(await pingRedis(givenRedis, { timeoutMs: 2_000 }))) {
    throw new AppError(
      'REDIS_UNAVAILABLE',
      `REDIS_URL=${redactRedisUrl(givenRedis)} does not answer PING: stack:up uses exactly the Redis REDIS_URL names. Start that Redis, or unset REDIS_URL and stack:up starts a redis-server of its own`,
      { retriable: false, details: { redisUrl: redactRedisUrl(givenRedis) } },
    )
  }
  if (existing) await stackDown({ home })

  let redis: RedisServer | undefined
  let redisCluster: RedisCluster | undefined
  let url = givenRedis ?? ''
  if (options.redisCluster) {
    const tls = options.redisCluster.tls ?? false
    progress(`Starting a ${tls ? 'TLS ' : ''}Redis Cluster (3 masters, 3 replicas)…`)
    redisCluster = await startRedisCluster({
      home,
      tls,
      users: [STACK_REDIS_USER],
      detached: true,
    })
    url = ''
    try {
      // Reached as the services reach it: the variables stack:up prints.
      await markInitialised(readConfig(redisCluster.env(STACK_REDIS_USER), readRedisTarget))
    } catch (error) {
      await redisCluster.stop()
      throw error
    }
    progress(
      `Redis Cluster ready at ${redisCluster.seeds} in ${(redisCluster.readyMs / 1000).toFixed(1)} s (user ${STACK_REDIS_USER}; folder ${redisCluster.workDir})`,
    )
  } else if (givenRedis !== undefined) {
    progress(`Using the Redis REDIS_URL names: ${redactRedisUrl(givenRedis)}`)
  } else {
    redis = await startRedisServer({
      home,
      detached: true,
      port: (await isPortFree(6379)) ? 6379 : undefined,
    })
    url = redis.url
    try {
      await markInitialised(url)
    } catch (error) {
      await redis.stop()
      throw error
    }
    progress(`Started redis-server at ${url} (the stack's own; stack:down stops it)`)
  }
  // The registry starts while Kafka does (it needs nothing from Kafka: its storage is in memory).
  if (options.schemaRegistry) progress('Starting an Apicurio Registry (about 5-10 s)…')
  const registryStart = options.schemaRegistry
    ? startSchemaRegistry({ home, detached: true, onProgress: progress }).then(
        (registry) => ({ registry }),
        (error: unknown) => ({ error }),
      )
    : undefined
  const stopRegistry = async (): Promise<void> => {
    const started = await registryStart
    if (started && 'registry' in started) await started.registry.stop()
  }
  const nodes = options.brokers ?? 1
  const secure = options.secure ?? false
  let kafka: LocalKafka
  let cluster: KafkaCluster | undefined
  try {
    if (nodes > 1 || secure) {
      const ports: (number | undefined)[] = []
      for (let i = 0; i < nodes; i++)
        ports.push((await isPortFree(9092 + i)) ? 9092 + i : undefined)
      progress(
        `Starting a ${secure ? 'secured ' : ''}${nodes}-node Kafka ${options.kafkaVersion ?? ''} cluster (about 20-60 s)…`.replace(
          '  ',
          ' ',
        ),
      )
      cluster = await startKafkaCluster({
        home,
        nodes,
        ports,
        version: options.kafkaVersion,
        detached: true,
        secure,
        onProgress: progress,
      })
      kafka = cluster
      if (cluster.security) {
        try {
          await secureProductSetup(cluster, progress)
        } catch (error) {
          await cluster.stop()
          throw error
        }
      }
    } else {
      const port = (await isPortFree(9092)) ? 9092 : undefined
      const controllerPort = (await isPortFree(9093)) ? 9093 : undefined
      progress(
        `Starting Kafka ${options.kafkaVersion ?? ''} on ${port ?? 'a free port'} (about 10-30 s)…`.replace(
          '  ',
          ' ',
        ),
      )
      kafka = await startKafkaBroker({
        home,
        port,
        controllerPort,
        portsPreferred: true,
        version: options.kafkaVersion,
        detached: true,
        onProgress: progress,
      })
    }
  } catch (error) {
    await stopRegistry()
    await redis?.stop()
    await redisCluster?.stop()
    throw error
  }
  let registry: SchemaRegistry | undefined
  const registryStarted = await registryStart
  if (registryStarted && 'error' in registryStarted) {
    await kafka.stop()
    await redis?.stop()
    await redisCluster?.stop()
    throw registryStarted.error
  }
  if (registryStarted) {
    registry = registryStarted.registry
    progress(
      `Apicurio Registry ${registry.version} (Java ${registry.java.major}) ready at ${registry.url} in ${(registry.readyMs / 1000).toFixed(1)} s; Confluent API ${registry.ccompatUrl} (log: ${registry.logFile})`,
    )
  }
  progress(
    `Kafka ${kafka.version} ${cluster ? `(${secure ? 'secured, ' : ''}${nodes} node${nodes === 1 ? '' : 's'}, replication factor ${cluster.replicationFactor}, min.insync.replicas ${cluster.minInsyncReplicas}) ` : ''}ready at ${kafka.brokers} in ${(kafka.readyMs() / 1000).toFixed(1)} s (log: ${kafka.logFile})`,
  )
  const security = cluster?.security
  const state: StackState = {
    kafkaBrokers: kafka.brokers,
    redisUrl: url,
    kafka: {
      pid: kafka.pid(),
      workDir: kafka.workDir,
      version: kafka.version,
      logFile: kafka.logFile,
      ...(cluster
        ? {
            nodes: cluster.nodes.map((n) => ({
              nodeId: n.nodeId,
              pid: n.pid(),
              brokers: n.brokers,
              logFile: n.logFile,
            })),
          }
        : {}),
      ...(security
        ? {
            security: {
              caFile: security.caFile,
              clientCertFile: security.clientCertFile,
              clientKeyFile: security.clientKeyFile,
              users: [...security.users],
              passwordFiles: Object.fromEntries(
                security.users.map((user) => [user, security.passwordFile(user)]),
              ),
            },
          }
        : {}),
    },
    ...(redis ? { redis: { pid: redis.pid(), workDir: redis.workDir } } : {}),
    ...(redisCluster
      ? {
          redisCluster: {
            workDir: redisCluster.workDir,
            nodes: redisCluster.nodes.map((n) => ({ port: n.port, pid: n.pid() })),
            env: redisCluster.env(STACK_REDIS_USER),
          },
        }
      : {}),
    ...(registry
      ? {
          schemaRegistry: {
            pid: registry.pid(),
            workDir: registry.workDir,
            url: registry.url,
            ccompatUrl: registry.ccompatUrl,
            managementPort: registry.managementPort,
            version: registry.version,
          },
        }
      : {}),
    startedAt: new Date().toISOString(),
  }
  mkdirSync(home, { recursive: true })
  writeFileSync(stateFile(home), `${JSON.stringify(state, null, 2)}\n`)
  return { ...state, reused: false }
}

/**
 * Marks a Redis the stack has just created as initialised for the token lock, so the first lease
 * on it is granted at once (a new Redis cannot have lost a lease). Never for a Redis it only uses.
 * @throws AppError `REDIS_UNAVAILABLE`.
 */
export async function markInitialised(address: RedisAddress): Promise<void> {
  const redis = createRedis(address, { name: 'dev-stack-init' })
  try {
    await markRedisInitialised(redis)
  } finally {
    redis.disconnect()
  }
}

/**
 * A secured cluster made ready for the product: the product topics and the consumer services'
 * dead-letter topics (chat-quality's companion `chat-quality-tramites` included) provisioned as
 * `admin` (the services then only verify them), and the ACLs of {@link productAcls} granted.
 */
async function secureProductSetup(
  cluster: KafkaCluster,
  progress: (line: string) => void,
): Promise<void> {
  const admin = cluster.security!.connection(ADMIN_USER)
  const specs = [
    ...productTopics,
    dlqTopic('sentiment-aggregator'),
    dlqTopic('tramite-classifier'),
    dlqTopic('chat-quality'),
    // chat-quality's companion consumer of trámite classifications.
    dlqTopic('chat-quality-tramites'),
  ]
  await provisionTopics(createKafkaClient({ ...admin, clientId: 'wolkvox-stack-up' }), specs, {
    create: true,
  })
  const acls = productAcls()
  await grantAcls(admin, acls)
  progress(
    `Provisioned ${specs.length} topics as ${ADMIN_USER}; granted the ACLs of ${acls.map((a) => a.principal).join(', ')}`,
  )
}

/**
 * Stops what `stack:up` started (every node of a cluster, the registry; a Redis it only used is
 * left alone) and removes its folders.
 * @throws AppError `DEV_STACK_NOT_RUNNING` when there is nothing to stop.
 */
export async function stackDown(options: { home?: string } = {}): Promise<StackState> {
  const home = options.home ?? devStackHome()
  const state = readStackState(home)
  if (!state)
    throw new AppError('DEV_STACK_NOT_RUNNING', 'No stack started by `npm run stack:up` is running')
  const records = listProcesses(home)
  const stopPid = async (pid: number): Promise<void> => {
    const record = records.find((r) => r.pid === pid)
    // Not a child of this process: asked again before each signal whether the pid is still ours.
    const ours = (): boolean => (record ? isOurProcess(record) : isAlive(pid))
    await terminate(pid, 30_000, ours)
    if (record) unregisterProcess(home, record)
  }
  if (state.schemaRegistry) {
    await stopPid(state.schemaRegistry.pid)
    rmSync(state.schemaRegistry.workDir, { recursive: true, force: true })
  }
  // A cluster's nodes at once: one left alone without a quorum cannot finish a controlled shutdown.
  await Promise.all((state.kafka.nodes?.map((n) => n.pid) ?? [state.kafka.pid]).map(stopPid))
  rmSync(state.kafka.workDir, { recursive: true, force: true })
  if (state.redis) {
    await stopPid(state.redis.pid)
    rmSync(state.redis.workDir, { recursive: true, force: true })
  }
  if (state.redisCluster) {
    await Promise.all(state.redisCluster.nodes.map((n) => stopPid(n.pid)))
    rmSync(state.redisCluster.workDir, { recursive: true, force: true })
  }
  rmSync(stateFile(home), { force: true })
  return state
}
