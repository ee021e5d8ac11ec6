/*
 * A local multi-node KRaft cluster: a composition of the nodes `kafka-broker.ts` starts, each a
 * combined broker+controller JVM with its own ports, data folder and pid record, sharing one
 * cluster id and one static controller quorum. Combined roles rather than separate controllers:
 * three JVMs instead of six on a two-core laptop, at the price that a lost node is also a lost
 * voter (two nodes down is a lost quorum as well as a lost ISR majority). Production clusters
 * should run dedicated controllers; nothing here depends on the choice beyond the properties.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient, type Admin, type KafkaConnection } from '@wolkvox-chat-stream/kafka'
import { tail } from './child.js'
import { ensureKafkaJars, kafkaVersionFromEnv } from './jars.js'
import {
  newClusterId,
  startKafkaBroker,
  type KafkaBroker,
  redact,
  type KafkaNodeIdentity,
  type KafkaNodeSecurity,
  type LocalKafka,
  type StopSignal,
} from './kafka-broker.js'
import {
  ADMIN_USER,
  NODE_PRINCIPAL,
  clientConnection,
  clientEnv,
  clusterUsers,
  createClusterTls,
  writeUserPasswords,
} from './kafka-security.js'
import { devStackHome } from './paths.js'
import { freePort, isPortFree } from './ports.js'
import { assertPrerequisites } from './prerequisites.js'
import { cleanupOrphans } from './process-registry.js'

/** The most nodes a local cluster may have (each is a JVM of a few hundred MB). */
export const MAX_CLUSTER_NODES = 9

/**
 * `KAFKA_NODES`: how many nodes a locally started Kafka has (default 1, a single broker; 3 for a
 * cluster as users run it). Read by `stack:up`, `npm start`, the test setup and the fault stack.
 * @throws AppError `CONFIG_INVALID` when it is not an integer from 1 to {@link MAX_CLUSTER_NODES}.
 */
export function kafkaNodesFromEnv(env: Env = process.env): number {
  return readConfig(env, (r) => ({
    nodes: r.integer('KAFKA_NODES', 1, { min: 1, max: MAX_CLUSTER_NODES }),
  })).nodes
}

/**
 * `KAFKA_SECURE`: whether a locally started cluster is secured (TLS from a private CA, mutual TLS,
 * SCRAM-SHA-512 users and ACLs; see {@link KafkaClusterOptions.secure}). Default false.
 * @throws AppError `CONFIG_INVALID` when it is not a boolean.
 */
export function kafkaSecureFromEnv(env: Env = process.env): boolean {
  return readConfig(env, (r) => ({ secure: r.boolean('KAFKA_SECURE', false) })).secure
}

/** `--secure` among `args`, else `KAFKA_SECURE`. */
export function secureFromArgs(args: readonly string[], env: Env = process.env): boolean {
  return args.includes('--secure') || kafkaSecureFromEnv(env)
}

/**
 * The node count of `--brokers N` (or `--brokers=N`), else `KAFKA_NODES`, else 1.
 * @throws AppError `CONFIG_INVALID` for a count that is not 1 to {@link MAX_CLUSTER_NODES}.
 */
export function brokersFromArgs(args: readonly string[], env: Env = process.env): number {
  const at = args.findIndex((a) => a === '--brokers' || a.startsWith('--brokers='))
  if (at < 0) return kafkaNodesFromEnv(env)
  const text = args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1]
  const count = Number(text)
  if (!Number.isInteger(count) || count < 1 || count > MAX_CLUSTER_NODES) {
    throw new AppError(
      'CONFIG_INVALID',
      `--brokers takes a node count from 1 to ${MAX_CLUSTER_NODES}, not "${text ?? ''}"`,
    )
  }
  return count
}

/** The topic the cluster's readiness check creates with one replica on every node. */
export const CLUSTER_PROBE_TOPIC = '__wolkvox_cluster_probe'

/** Options for {@link startKafkaCluster}. */
export interface KafkaClusterOptions {
  /** How many nodes, each a combined broker and controller (default 3; 1 to {@link MAX_CLUSTER_NODES}). */
  nodes?: number
  /** The client port of each node in order; a free port for a node without one. */
  ports?: readonly (number | undefined)[]
  /** Broker version from Maven Central (default `KAFKA_VERSION`, else 3.9.2). */
  version?: string
  /** Maximum heap of each node in MiB (default 384). */
  heapMb?: number
  /** How long the whole cluster may take to be ready (default 180 s). */
  readyTimeoutMs?: number
  /** Keeps running after this process exits (for `stack:up`). Default false. */
  detached?: boolean
  /** Each node in a process group of its own (for `npm start`). Default false. */
  ownProcessGroup?: boolean
  home?: string
  /** Extra `server.properties` entries for every node, over {@link clusterProperties}. */
  properties?: Record<string, string | number | boolean>
  /**
   * Secured, as a managed cluster looks from a client (default false): TLS from a private CA made
   * at start (`openssl`), mutual TLS required, SCRAM-SHA-512 users created at format time
   * (`admin`, a super user, and the product's users), and ACLs enforced with no access without
   * one. The cluster's own checks connect as `admin`. See {@link KafkaCluster.security}.
   */
  secure?: boolean
  /** SCRAM users besides `admin` and the product's (`poller`, `sentiment-aggregator`, `tramite-classifier`). */
  users?: readonly string[]
  onProgress?: (line: string) => void
}

/**
 * How a client reaches a secured cluster. Every file is under the cluster's `workDir` and goes
 * with it at `stop()`; private keys and passwords are 0600. No password is in this object.
 */
export interface KafkaClusterSecurity {
  /** The private CA's certificate (PEM), the only one the nodes' certificate chains to. */
  readonly caFile: string
  /** The client certificate (PEM, CN=wolkvox-client) every user presents: mutual TLS is required. */
  readonly clientCertFile: string
  /** Its private key (PEM, 0600). */
  readonly clientKeyFile: string
  /** The SCRAM-SHA-512 users: `admin` (a super user), the product's users, then the extra ones. */
  readonly users: readonly string[]
  /** The nodes' principal on the controller listener, `User:CN=wolkvox-kafka-node` (a super user). */
  readonly nodePrincipal: string
  /**
   * The file holding `user`'s password (0600, no trailing newline).
   * @throws RangeError for a user the cluster does not have.
   */
  passwordFile(user: string): string
  /**
   * A connection as `user`: the private CA, the client certificate and key, SCRAM-SHA-512 with the
   * password (key and password as `Secret`s).
   * @throws RangeError for a user the cluster does not have.
   */
  connection(user: string): KafkaConnection
  /**
   * The variables a service reads to connect as `user`: `KAFKA_BROKERS`, `KAFKA_SSL=true`,
   * `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_CERT_FILE`, `KAFKA_SSL_KEY_FILE`,
   * `KAFKA_SASL_MECHANISM=scram-sha-512`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD_FILE`.
   * @throws RangeError for a user the cluster does not have.
   */
  env(user: string): Record<string, string>
}

/** A running local KRaft cluster. Its nodes can be stopped and started one by one. */
export interface KafkaCluster extends LocalKafka {
  /** Every node's address, `127.0.0.1:<p1>,127.0.0.1:<p2>,…`. */
  readonly brokers: string
  readonly clusterId: string
  /** The nodes, in `node.id` order (ids 1…n). */
  readonly nodes: readonly KafkaBroker[]
  /** `default.replication.factor` (and the internal topics'): min(3, nodes). */
  readonly replicationFactor: number
  /** `min.insync.replicas`: 2 when the replication factor is 3 or more, else 1. */
  readonly minInsyncReplicas: number
  /** Present when started with `secure: true`: how clients connect (every connection needs it). */
  readonly security?: KafkaClusterSecurity
  /**
   * The node with this `node.id`.
   * @throws AppError `DEV_STACK_BROKER_START_FAILED` when there is none.
   */
  node(nodeId: number): KafkaBroker
  /**
   * Stops one node, keeping its data: SIGKILL (default) is a crash, SIGTERM a controlled
   * shutdown. Resolves once its JVM has exited.
   */
  kill(nodeId: number, signal?: StopSignal): Promise<void>
  /**
   * Starts one stopped node again (same ports, same data) and resolves once it is back in the
   * cluster's metadata; without `nodeId`, every stopped node, then waits for the whole cluster to
   * be ready as at the first start.
   * @throws AppError `DEV_STACK_BROKER_START_FAILED`.
   */
  start(nodeId?: number): Promise<void>
  /**
   * Resolves once every partition of `topics` (default: every topic, internal ones included) has
   * a leader and all its replicas in sync, e.g. after a node came back.
   * @throws AppError `DEV_STACK_CLUSTER_DEGRADED` naming the partitions still short, after
   *   `timeoutMs` (default 120 s).
   */
  waitForFullIsr(options?: { topics?: readonly string[]; timeoutMs?: number }): Promise<void>
}

/**
 * The replication settings of an n-node cluster: what a user's cluster has (three replicas, two
 * of them in sync to acknowledge), scaled down when there are fewer nodes than three.
 */
export function clusterProperties(nodes: number): Record<string, number> {
  const replicationFactor = Math.min(3, nodes)
  const minInsync = replicationFactor >= 3 ? 2 : 1
  return {
    'default.replication.factor': replicationFactor,
    'min.insync.replicas': minInsync,
    'offsets.topic.replication.factor': replicationFactor,
    'transaction.state.log.replication.factor': replicationFactor,
    'transaction.state.log.min.isr': minInsync,
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** An admin client that fails fast (the callers loop), connected; the caller disconnects it. */
async function probeAdmin(connection: KafkaConnection): Promise<Admin> {
  const admin = createKafkaClient({
    ...connection,
    clientId: 'wolkvox-cluster-probe',
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
  }).admin({ retry: { retries: 0 } })
  await admin.connect()
  return admin
}

/**
 * Retries `attempt` every 250 ms until it resolves, `timeoutMs` passes or `signal` aborts, then
 * rethrows the last failure.
 */
async function retryUntil(
  attempt: () => Promise<void>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = new Error('not tried')
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      await attempt()
      return
    } catch (error) {
      last = error
      await pause(250)
    }
  }
  throw last
}

/** A node is ready once it answers on its own port and the cluster's metadata lists it. */
async function nodeListed(connection: KafkaConnection, nodeId: number): Promise<void> {
  const admin = await probeAdmin(connection)
  try {
    const cluster = await admin.describeCluster()
    if (!cluster.brokers.some((b) => b.nodeId === nodeId)) {
      throw new Error(`node ${nodeId} is not in the cluster metadata yet`)
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** Partitions of `topics` that lack a leader or a replica in sync, as `topic/partition` lines. */
async function shortPartitions(
  admin: Admin,
  topics: readonly string[] | undefined,
): Promise<string[]> {
  const names = topics ?? (await admin.listTopics())
  const metadata = await admin.fetchTopicMetadata({ topics: [...names] })
  const short: string[] = []
  for (const topic of metadata.topics) {
    for (const p of topic.partitions) {
      if (!(p.leader >= 0) || p.isr.length < p.replicas.length) {
        short.push(
          `${topic.name}/${p.partitionId}: leader ${p.leader}, isr [${p.isr.join(',')}] of [${p.replicas.join(',')}]`,
        )
      }
    }
  }
  return short
}

/**
 * The cluster is ready when `describeCluster` lists every node and a probe topic with one replica
 * on each node (one partition per node, so every node leads one) has a full ISR.
 */
async function clusterReady(connection: KafkaConnection, nodes: number): Promise<void> {
  const admin = await probeAdmin(connection)
  try {
    const cluster = await admin.describeCluster()
    if (cluster.brokers.length !== nodes) {
      throw new Error(`describeCluster lists ${cluster.brokers.length} of ${nodes} brokers`)
    }
    if (!(await admin.listTopics()).includes(CLUSTER_PROBE_TOPIC)) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic: CLUSTER_PROBE_TOPIC, numPartitions: nodes, replicationFactor: nodes }],
      })
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [CLUSTER_PROBE_TOPIC] })
    const partitions = metadata.topics[0]?.partitions ?? []
    if (partitions.length !== nodes || partitions.some((p) => p.isr.length !== nodes)) {
      throw new Error(`the probe topic's ISR is not full yet`)
    }
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** A secured cluster's material: what the nodes get, what clients get, and what is never printed. */
interface Secured {
  node: KafkaNodeSecurity
  /** Every password, for redacting what is shown of the nodes' logs. */
  secrets: string[]
  /** The client side, without the brokers yet (for the start's own messages). */
  security: Pick<KafkaClusterSecurity, 'caFile' | 'users'> & {
    connection(user: string): KafkaConnection
  }
  /** The client side for these brokers. */
  bind(brokers: readonly string[]): KafkaClusterSecurity
}

/**
 * Makes a secured cluster's TLS under `<workDir>/tls` and its users' passwords under
 * `<workDir>/secrets` (see `kafka-security.ts`).
 */
async function secureCluster(workDir: string, extraUsers: readonly string[]): Promise<Secured> {
  const users = clusterUsers(extraUsers)
  const tls = await createClusterTls(join(workDir, 'tls'))
  const files = writeUserPasswords(join(workDir, 'secrets'), users)
  const passwordFile = (user: string): string => {
    const file = files.get(user)
    if (file === undefined) {
      throw new RangeError(`The cluster has no SCRAM user "${user}" (it has ${users.join(', ')})`)
    }
    return file
  }
  const passwords = users.map((name) => ({
    name,
    password: readFileSync(passwordFile(name), 'utf8'),
  }))
  const connection = (brokers: readonly string[], user: string): KafkaConnection =>
    clientConnection({
      brokers,
      caFile: tls.caFile,
      clientCertFile: tls.clientCertFile,
      clientKeyFile: tls.clientKeyFile,
      user,
      passwordFile: passwordFile(user),
    })
  return {
    node: {
      keystoreFile: tls.keystoreFile,
      truststoreFile: tls.truststoreFile,
      storePassword: tls.storePassword,
      nodePrincipal: NODE_PRINCIPAL,
      adminUser: ADMIN_USER,
      scramUsers: passwords,
    },
    secrets: [tls.storePassword, ...passwords.map((p) => p.password)],
    security: { caFile: tls.caFile, users, connection: (user) => connection([], user) },
    bind: (brokers) => ({
      caFile: tls.caFile,
      clientCertFile: tls.clientCertFile,
      clientKeyFile: tls.clientKeyFile,
      users,
      nodePrincipal: NODE_PRINCIPAL,
      passwordFile,
      connection: (user) => connection(brokers, user),
      env: (user) =>
        clientEnv({
          brokers: brokers.join(','),
          caFile: tls.caFile,
          clientCertFile: tls.clientCertFile,
          clientKeyFile: tls.clientKeyFile,
          user,
          passwordFile: passwordFile(user),
          replicationFactor: Math.min(3, brokers.length),
        }),
    }),
  }
}

/** Client and controller ports for every node: the ones asked for, else free ones, all distinct. */
async function choosePorts(
  nodes: number,
  wanted: readonly (number | undefined)[],
): Promise<{ port: number; controllerPort: number }[]> {
  const taken = new Set(wanted.filter((p): p is number => p !== undefined))
  const next = async (): Promise<number> => {
    let port = await freePort()
    while (taken.has(port)) port = await freePort()
    taken.add(port)
    return port
  }
  const out: { port: number; controllerPort: number }[] = []
  for (let i = 0; i < nodes; i++) {
    const asked = wanted[i]
    if (asked !== undefined && !(await isPortFree(asked))) {
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `Port ${asked} on 127.0.0.1 is already in use`,
        { details: { port: asked } },
      )
    }
    out.push({ port: asked ?? (await next()), controllerPort: await next() })
  }
  return out
}

/**
 * Starts an n-node Apache Kafka cluster in KRaft mode on 127.0.0.1 from the Maven jars: every node
 * a combined broker and controller, all of them voters, with the replication of
 * {@link clusterProperties}. Resolves once every broker is in the metadata and a probe topic
 * replicated on every node has a full ISR. A node that fails to start stops the others: nothing is
 * left running on failure.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_JARS_FETCH_FAILED`,
 *   `DEV_STACK_BROKER_START_FAILED` (with the logs' tails).
 */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3
  if (!Number.isInteger(count) || count < 1 || count > MAX_CLUSTER_NODES) {
    throw new AppError(
      'DEV_STACK_BROKER_START_FAILED',
      `A local cluster has 1 to ${MAX_CLUSTER_NODES} nodes, not ${count}`,
      { retriable: false },
    )
  }
  const home = options.home ?? devStackHome()
  const version = options.version ?? kafkaVersionFromEnv()
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000
  assertPrerequisites(options.secure ? ['java', 'openssl', 'keytool'] : ['java'])
  cleanupOrphans(home)
  // Fetched once here: several nodes fetching at once would share one staging folder.
  await ensureKafkaJars({ home, version, onProgress: options.onProgress })

  const startedAt = Date.now()
  const ports = await choosePorts(count, options.ports ?? [])
  const clusterId = newClusterId()
  const voters = ports.map((p, i) => ({ nodeId: i + 1, controllerPort: p.controllerPort }))
  const workDir = join(
    home,
    'clusters',
    `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
  )
  mkdirSync(workDir, { recursive: true })
  const properties = { ...clusterProperties(count), ...options.properties }
  const brokerList = ports.map((p) => `127.0.0.1:${p.port}`)

  let secured: Secured | undefined
  if (options.secure) {
    try {
      secured = await secureCluster(workDir, options.users ?? [])
    } catch (error) {
      rmSync(workDir, { recursive: true, force: true })
      throw error
    }
    options.onProgress?.(
      `Secured: TLS from a private CA (${secured.security.caFile}), SCRAM-SHA-512 users ${secured.security.users.join(', ')}`,
    )
  }
  /** How the cluster's own checks connect: as `admin` when secured. */
  const probeConnection = (brokers: readonly string[]): KafkaConnection =>
    secured ? { ...secured.security.connection(ADMIN_USER), brokers } : { brokers }

  // Every node at once: none is ready before a quorum of controllers is up.
  const started = await Promise.allSettled(
    ports.map((p, i) => {
      const identity: KafkaNodeIdentity = { nodeId: i + 1, clusterId, voters }
      return startKafkaBroker({
        home,
        version,
        port: p.port,
        controllerPort: p.controllerPort,
        heapMb: options.heapMb ?? 384,
        readyTimeoutMs,
        stopGraceMs: 20_000,
        detached: options.detached ?? false,
        ownProcessGroup: options.ownProcessGroup ?? false,
        properties,
        ...(secured ? { security: secured.node } : {}),
        node: identity,
        workDir: join(workDir, `node-${identity.nodeId}`),
        ready: ({ brokers, timeoutMs, signal }) =>
          retryUntil(
            () => nodeListed(probeConnection([brokers]), identity.nodeId),
            timeoutMs,
            signal,
          ),
      })
    }),
  )
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  const stopAll = async (signal: StopSignal): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stopProcess(signal)))
  }
  if (failed) {
    await stopAll('SIGKILL')
    throw failed.reason
  }
  try {
    await retryUntil(() => clusterReady(probeConnection(brokerList), count), readyTimeoutMs)
  } catch (error) {
    await stopAll('SIGKILL')
    throw new AppError(
      'DEV_STACK_BROKER_START_FAILED',
      `The ${count}-node Kafka ${version} cluster at ${brokerList.join(',')} did not become ready ` +
        `(${error instanceof Error ? error.message : String(error)}); see ${nodes[0]!.logFile}\n` +
        redact(tail(nodes[0]!.logFile, 15), secured?.secrets ?? []),
      { cause: error },
    )
  }
  let lastReadyMs = Date.now() - startedAt
  let removed = false

  const node = (nodeId: number): KafkaBroker => {
    const found = nodes.find((n) => n.nodeId === nodeId)
    if (!found) {
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `The cluster has nodes 1 to ${count}, not ${nodeId}`,
        { retriable: false },
      )
    }
    return found
  }

  const start = async (nodeId?: number): Promise<void> => {
    if (removed) {
      throw new AppError('DEV_STACK_BROKER_START_FAILED', 'this cluster was stopped and removed')
    }
    if (nodeId !== undefined) {
      await node(nodeId).start()
      return
    }
    const begun = Date.now()
    await Promise.all(nodes.filter((n) => !n.running()).map((n) => n.start()))
    try {
      await retryUntil(() => clusterReady(probeConnection(brokerList), count), readyTimeoutMs)
    } catch (error) {
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `The restarted cluster at ${brokerList.join(',')} did not become ready`,
        { cause: error },
      )
    }
    lastReadyMs = Date.now() - begun
  }

  const replicationFactor = Math.min(3, count)
  return {
    brokers: brokerList.join(','),
    clusterId,
    nodes,
    version,
    workDir,
    logFile: nodes[0]!.logFile,
    replicationFactor,
    minInsyncReplicas: replicationFactor >= 3 ? 2 : 1,
    ...(secured ? { security: secured.bind(brokerList) } : {}),
    pid: () => nodes.find((n) => n.running())?.pid() ?? -1,
    pids: () => nodes.flatMap((n) => n.pids()),
    readyMs: () => lastReadyMs,
    node,
    kill: (nodeId, signal = 'SIGKILL') => node(nodeId).stopProcess(signal),
    start,
    stopProcess: () => stopAll('SIGTERM'),
    async waitForFullIsr({ topics, timeoutMs = 120_000 } = {}) {
      let short: string[] = ['(not checked yet)']
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        try {
          const admin = await probeAdmin(probeConnection(brokerList))
          try {
            short = await shortPartitions(admin, topics)
          } finally {
            await admin.disconnect().catch(() => undefined)
          }
          if (short.length === 0) return
        } catch (error) {
          short = [
            `(metadata unavailable: ${error instanceof Error ? error.message : String(error)})`,
          ]
        }
        await pause(500)
      }
      throw new AppError(
        'DEV_STACK_CLUSTER_DEGRADED',
        `After ${timeoutMs} ms, ${short.length} partition(s) still lack a leader or an in-sync replica:\n  ${short.slice(0, 20).join('\n  ')}`,
        { details: { short: short.slice(0, 100) } },
      )
    },
    async stop() {
      // Every node at once, each SIGKILLed after its grace: the data is thrown away anyway, and a
      // node left last without a quorum cannot finish a controlled shutdown.
      await Promise.allSettled(nodes.map((n) => n.stop()))
      if (!removed) rmSync(workDir, { recursive: true, force: true })
      removed = true
    },
  }
}
