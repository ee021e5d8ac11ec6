import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import { waitForKafka } from '@wolkvox-chat-stream/kafka'
import { signalChild, spawnLogged, stopChild, tail } from './child.js'
import { ensureKafkaJars, kafkaMajor, kafkaVersionFromEnv } from './jars.js'
import { devStackHome } from './paths.js'
import { freePort, isPortFree } from './ports.js'
import { assertPrerequisites } from './prerequisites.js'
import {
  cleanupOrphans,
  registerProcess,
  unregisterProcess,
  type ProcessRecord,
} from './process-registry.js'

/** Options for {@link startKafkaBroker}. */
export interface KafkaBrokerOptions {
  /** Client port; a free one when omitted. */
  port?: number
  /** KRaft controller port; a free one when omitted. */
  controllerPort?: number
  /**
   * `port` and `controllerPort` are wishes, not requirements (`stack:up`'s 9092 and 9093 when
   * free): when one is taken before Java binds it, the node starts again on free ports.
   */
  portsPreferred?: boolean
  /**
   * Broker version from Maven Central. Default: `KAFKA_VERSION` from the environment, else
   * `DEFAULT_KAFKA_VERSION` (3.9.2); see {@link kafkaVersionFromEnv}.
   */
  version?: string
  /** Maximum heap in MiB (default 512). */
  heapMb?: number
  /** How long to wait for the first successful client call (default 120 s). */
  readyTimeoutMs?: number
  /** How long a SIGTERM may take before SIGKILL (default 30 s: a controlled shutdown). */
  stopGraceMs?: number
  /** Keeps running after this process exits (for `stack:up`). Default false. */
  detached?: boolean
  /**
   * Runs in a process group of its own, so a terminal's Ctrl-C reaches only this process, which
   * then stops the broker last (for `npm start`). Default false.
   */
  ownProcessGroup?: boolean
  /** Cache and run folder (default {@link devStackHome}). */
  home?: string
  /** Extra `server.properties` entries; they override the single-node defaults. */
  properties?: Record<string, string | number | boolean>
  /**
   * Secured mode (see `kafka-security.ts`): TLS everywhere, SCRAM-SHA-512 on the client listener,
   * ACLs enforced, and the SCRAM users written at format time. Such a node needs a `ready` that
   * connects as a user; the default readiness check connects without credentials.
   */
  security?: KafkaNodeSecurity
  /**
   * This node's place in a cluster (see `kafka-cluster.ts`). Omitted: a cluster of one, node 1,
   * its own controller, a random cluster id.
   */
  node?: KafkaNodeIdentity
  /**
   * The folder for this node's data, logs and properties; created, and removed by
   * {@link KafkaBroker.stop}. Default: a new folder under `<home>/brokers`.
   */
  workDir?: string
  /**
   * What "ready" means after each spawn. Default: {@link waitForKafka} on this broker alone (a
   * probe topic with one replica gets a leader). A cluster node instead waits to be listed in the
   * cluster's metadata, because no single node of a cluster can be ready on its own.
   * Rejects to fail the start; `signal` aborts when the process exits.
   */
  ready?: (check: { brokers: string; timeoutMs: number; signal: AbortSignal }) => Promise<void>
  onProgress?: (line: string) => void
}

/** A node's identity in a KRaft cluster: its id, the controller quorum and the shared cluster id. */
export interface KafkaNodeIdentity {
  /** `node.id`, unique in the cluster. */
  nodeId: number
  /** KRaft cluster id (22 characters of base64url), the same on every node. */
  clusterId: string
  /** Every controller of the quorum, this node included when it is one. */
  voters: readonly { nodeId: number; controllerPort: number }[]
}

/**
 * What a secured node needs: its TLS stores (PKCS12) and the SCRAM-SHA-512 users. The client
 * listener is `SASL_SSL` (SCRAM-SHA-512 with a client certificate required) and carries the
 * inter-broker traffic as `admin`; the controller listener is `SSL` with a client certificate
 * required, where the nodes are `User:CN=<node certificate's CN>`.
 */
export interface KafkaNodeSecurity {
  /** PKCS12 keystore with the node's key and certificate chain. */
  keystoreFile: string
  /** PKCS12 truststore with the private CA. */
  truststoreFile: string
  /** The password of both stores (they live in `server.properties`, as any broker's do). */
  storePassword: string
  /** The node certificate's principal on the controller listener: `User:CN=…`. */
  nodePrincipal: string
  /** The SCRAM user the nodes talk to each other as; a super user. */
  adminUser: string
  /** SCRAM-SHA-512 credentials written into the metadata at format time; `adminUser` among them. */
  scramUsers: readonly { name: string; password: string }[]
}

/** How a running node is stopped: SIGTERM is a controlled shutdown, SIGKILL a crash. */
export type StopSignal = 'SIGTERM' | 'SIGKILL'

/**
 * What every local Kafka offers, a single broker or a cluster: where to reach it, its processes'
 * lifecycle, and where it logs. Code that only needs "a Kafka" (test setup, `npm start`) takes this.
 */
export interface LocalKafka {
  /** Bootstrap addresses, `127.0.0.1:<port>[,127.0.0.1:<port>…]`. */
  readonly brokers: string
  readonly version: string
  /** The broker's log (a cluster: its first node's). */
  readonly logFile: string
  /** Everything it wrote; removed by {@link LocalKafka.stop}. */
  readonly workDir: string
  /** The JVM's pid (a cluster: its first node's); -1 when not running. */
  pid(): number
  /** The pids of every running JVM. */
  pids(): number[]
  /** Milliseconds from spawn to ready, for the last start. */
  readyMs(): number
  /** Stops the process(es) with a controlled shutdown, keeping the data for {@link LocalKafka.start}. */
  stopProcess(): Promise<void>
  /** Starts what is stopped again, on the same ports with the same data. */
  start(): Promise<void>
  /** Stops everything and removes its folder. Safe to call twice; never leaves a process behind. */
  stop(): Promise<void>
}

/** A running KRaft node (combined broker and controller): a single-node Kafka, or a cluster's node. */
export interface KafkaBroker extends LocalKafka {
  /** Bootstrap address, `127.0.0.1:<port>`. */
  readonly brokers: string
  readonly port: number
  readonly controllerPort: number
  /** `node.id` (1 for a single broker). */
  readonly nodeId: number
  /**
   * Stops the broker, keeping its data for {@link KafkaBroker.start}: SIGTERM (default) waits for
   * the controlled shutdown (SIGKILL after 30 s); SIGKILL is a crash, as a lost machine.
   */
  stopProcess(signal?: StopSignal): Promise<void>
  /** Whether its JVM is running (started and not stopped or exited). */
  running(): boolean
}

const MAX_RECORD_BYTES = 16 * 1024 * 1024

/** A KRaft cluster id: 16 random bytes as base64url, as `kafka-storage random-uuid` prints it. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url')
}

/**
 * The listener, TLS, SASL and authorization entries of a secured node (see
 * {@link KafkaNodeSecurity}): `SASL_SSL` for clients and between brokers, `SSL` for the
 * controllers, hostnames verified both ways, `StandardAuthorizer` with no access without an ACL
 * except for the super users (`admin` and the nodes).
 * @throws AppError `DEV_STACK_BROKER_START_FAILED` when `adminUser` has no SCRAM credential.
 */
export function securedNodeProperties(options: {
  port: number
  controllerPort: number
  security: KafkaNodeSecurity
}): Record<string, string> {
  const { security } = options
  const admin = security.scramUsers.find((u) => u.name === security.adminUser)
  if (!admin) {
    throw new AppError(
      'DEV_STACK_BROKER_START_FAILED',
      `The secured node has no SCRAM credential for its inter-broker user ${security.adminUser}`,
      { retriable: false },
    )
  }
  return {
    listeners: `SASL_SSL://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `SASL_SSL://127.0.0.1:${options.port}`,
    'inter.broker.listener.name': 'SASL_SSL',
    'listener.security.protocol.map': 'CONTROLLER:SSL,SASL_SSL:SASL_SSL',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': security.keystoreFile,
    'ssl.keystore.password': security.storePassword,
    'ssl.key.password': security.storePassword,
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': security.truststoreFile,
    'ssl.truststore.password': security.storePassword,
    // The default, stated: the nodes check each other's certificate against 127.0.0.1.
    'ssl.endpoint.identification.algorithm': 'https',
    // Mutual TLS on both listeners (for SASL_SSL only the listener's own setting counts, KIP-684).
    'listener.name.sasl_ssl.ssl.client.auth': 'required',
    'listener.name.controller.ssl.client.auth': 'required',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      `org.apache.kafka.common.security.scram.ScramLoginModule required ` +
      `username="${admin.name}" password="${admin.password}";`,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${security.adminUser};${security.nodePrincipal}`,
    'allow.everyone.if.no.acl.found': 'false',
  }
}

/**
 * The `server.properties` of one combined broker+controller node. Without `node`, a cluster of
 * one: every internal topic with one replica. With `security`, the listeners of
 * {@link securedNodeProperties} instead of plaintext. `extra` overrides any entry (a cluster sets
 * its replication factors there).
 */
export function serverProperties(options: {
  port: number
  controllerPort: number
  dataDir: string
  node?: Pick<KafkaNodeIdentity, 'nodeId' | 'voters'>
  security?: KafkaNodeSecurity
  extra?: Record<string, string | number | boolean>
}): string {
  const nodeId = options.node?.nodeId ?? 1
  const voters = options.node?.voters ?? [{ nodeId, controllerPort: options.controllerPort }]
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': nodeId,
    'controller.quorum.voters': voters
      .map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`)
      .join(','),
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': options.dataDir,
    // One node: every internal topic must fit on it, or groups hang without a coordinator. A
    // cluster overrides these in `extra`.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Topics are provisioned on purpose by the services; a typo must not create one silently.
    'auto.create.topics.enable': false,
    // Records up to 16 MB (ARCHITECTURE.md: Topics).
    'message.max.bytes': MAX_RECORD_BYTES + 1024 * 1024,
    'replica.fetch.max.bytes': MAX_RECORD_BYTES + 1024 * 1024,
    'num.partitions': 1,
    ...(options.security
      ? securedNodeProperties({
          port: options.port,
          controllerPort: options.controllerPort,
          security: options.security,
        })
      : {}),
    ...options.extra,
  }
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n')}\n`
}

function loggingConfig(
  version: string,
  logFile: string,
): { file: string; text: string; flag: string } {
  if (kafkaMajor(version) >= 4) {
    return {
      file: 'log4j2.properties',
      flag: '-Dlog4j2.configurationFile=',
      text: [
        'status = error',
        'appender.file.type = File',
        'appender.file.name = FILE',
        `appender.file.fileName = ${logFile}`,
        'appender.file.layout.type = PatternLayout',
        'appender.file.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = INFO',
        'rootLogger.appenderRef.file.ref = FILE',
        'logger.state.name = state.change.logger',
        'logger.state.level = WARN',
        '',
      ].join('\n'),
    }
  }
  return {
    file: 'log4j.properties',
    flag: '-Dlog4j.configuration=file:',
    text: [
      'log4j.rootLogger=INFO, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${logFile}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  }
}

/** `text` with every occurrence of each of `secrets` replaced by `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('[redacted]')
  return out
}

/** Runs a short java command (the storage format) and resolves with its exit code and output. */
async function runJava(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, text: `${text}${error.message}` })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, text })
    })
  })
}

/**
 * Starts an Apache Kafka node in KRaft mode (combined broker and controller) on 127.0.0.1, from
 * the jars Maven fetched, and resolves once it is ready (by default: a real client call succeeds).
 * Alone it is a single-node Kafka; with `node` it is one node of a cluster (`kafka-cluster.ts`
 * composes several). Orphans of killed runs are removed first. The storage is formatted without
 * blocking the event loop, so several nodes start side by side.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_JARS_FETCH_FAILED`,
 *   `DEV_STACK_BROKER_START_FAILED` (with the log's tail).
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  // A port found free can be taken before Java binds it (by another process, or as the local
  // port of some outgoing connection). When this function picked it, it picks again.
  const picked =
    (options.port === undefined ||
      options.controllerPort === undefined ||
      options.portsPreferred === true) &&
    options.workDir === undefined
  for (let attempt = 1; ; attempt++) {
    try {
      // A wished-for port that was taken once is not tried again.
      const again = attempt > 1 && options.portsPreferred === true
      return await startKafkaBrokerOnce(
        again ? withoutKeys(options, ['port', 'controllerPort']) : options,
      )
    } catch (error) {
      const taken = isAppError(error) && error.details.portTaken === true
      if (!picked || !taken || attempt >= BIND_ATTEMPTS) throw error
      options.onProgress?.(`A port picked for Kafka was taken meanwhile; starting again on others`)
    }
  }
}

/** `object` less `keys` (an optional property left out, not set to undefined). */
function withoutKeys<T extends object, K extends keyof T>(
  object: T,
  keys: readonly K[],
): Omit<T, K> {
  const copy = { ...object }
  for (const key of keys) delete copy[key]
  return copy
}

/** How many times a node whose ports this module picked is started when a port was taken. */
const BIND_ATTEMPTS = 3

async function startKafkaBrokerOnce(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const home = options.home ?? devStackHome()
  const version = options.version ?? kafkaVersionFromEnv()
  assertPrerequisites(['java'])
  cleanupOrphans(home)
  const libs = await ensureKafkaJars({ home, version, onProgress: options.onProgress })

  const port = options.port ?? (await freePort())
  let controllerPort = options.controllerPort ?? (await freePort())
  while (controllerPort === port) controllerPort = await freePort()
  for (const p of [port, controllerPort]) {
    if (!(await isPortFree(p))) {
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `Port ${p} on 127.0.0.1 is already in use`,
        { details: { port: p, portTaken: true } },
      )
    }
  }

  const nodeId = options.node?.nodeId ?? 1
  const clusterId = options.node?.clusterId ?? newClusterId()
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const workDir = options.workDir ?? join(home, 'brokers', id)
  const dataDir = join(workDir, 'data')
  const logFile = join(workDir, 'server.log')
  const stdoutFile = join(workDir, 'stdout.log')
  mkdirSync(dataDir, { recursive: true })
  const propertiesFile = join(workDir, 'server.properties')
  writeFileSync(
    propertiesFile,
    serverProperties({
      port,
      controllerPort,
      dataDir,
      ...(options.node ? { node: options.node } : {}),
      ...(options.security ? { security: options.security } : {}),
      extra: options.properties ?? {},
    }),
  )
  const logging = loggingConfig(version, logFile)
  writeFileSync(join(workDir, logging.file), logging.text)

  // Never in a message: the SCRAM passwords and the stores' password.
  const secrets = [
    ...(options.security?.scramUsers ?? []).map((u) => u.password),
    ...(options.security ? [options.security.storePassword] : []),
  ]
  const classpath = `${libs}/*`
  const marker = `-Dwolkvox.devstack=${id}`
  const format = await runJava(
    [
      `${logging.flag}${join(workDir, logging.file)}`,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId}`,
      '-c',
      propertiesFile,
      '--ignore-formatted',
      // The users' SCRAM credentials go into the bootstrap metadata (KIP-900): no node can
      // authenticate another before the cluster runs, so they cannot be added later.
      ...(options.security?.scramUsers ?? []).flatMap((user) => [
        '--add-scram',
        `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`,
      ]),
    ],
    120_000,
  )
  if (format.code !== 0) {
    throw new AppError(
      'DEV_STACK_BROKER_START_FAILED',
      `Formatting the storage of Kafka node ${nodeId} failed:\n${redact(format.text.trim().slice(-2_000), secrets)}`,
    )
  }

  const heapMb = options.heapMb ?? 512
  const javaArgs = [
    `-Xms${Math.min(256, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    marker,
    `${logging.flag}${join(workDir, logging.file)}`,
    '-cp',
    classpath,
    'kafka.Kafka',
    propertiesFile,
  ]
  const brokers = `127.0.0.1:${port}`
  const ready =
    options.ready ??
    (({ brokers: address, timeoutMs, signal }) =>
      waitForKafka([address], { timeoutMs, signal, clusterId }))

  let child: ChildProcess | undefined
  let lastReadyMs = 0
  let record: ProcessRecord | undefined
  let removed = false

  const start = async (): Promise<void> => {
    const startedAt = Date.now()
    const proc = spawnLogged('java', javaArgs, {
      logFile: stdoutFile,
      detached: options.detached ?? false,
      ownGroup: options.ownProcessGroup ?? false,
    })
    child = proc
    if (proc.pid === undefined) {
      child = undefined
      throw new AppError('DEV_STACK_BROKER_START_FAILED', 'java could not be started')
    }
    const current: ProcessRecord = {
      kind: 'kafka',
      pid: proc.pid,
      ownerPid: options.detached ? null : process.pid,
      marker,
      workDir,
      ports: [port, controllerPort],
      startedAt: new Date(startedAt).toISOString(),
    }
    record = current
    registerProcess(home, current)
    const exited = new AbortController()
    const onExit = (): void => exited.abort()
    if (proc.exitCode !== null || proc.signalCode !== null) exited.abort()
    proc.once('exit', onExit)
    try {
      await ready({ brokers, timeoutMs: options.readyTimeoutMs ?? 120_000, signal: exited.signal })
    } catch (error) {
      // Read before stopChild, whose own kill would otherwise read as the node having exited.
      const exitedOnItsOwn = exited.signal.aborted
      const exit = exitedOnItsOwn
        ? `exited (${proc.signalCode ?? `code ${String(proc.exitCode)}`})`
        : 'did not become ready'
      await stopChild(proc, 5_000)
      unregisterProcess(home, current)
      child = undefined
      const portTaken = [logFile, stdoutFile].some((file) =>
        /BindException|Address already in use/u.test(tail(file, 400)),
      )
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `Kafka ${version} node ${nodeId} on ${brokers} ${exit}` +
          `${portTaken ? ` (port ${port} or ${controllerPort} is in use)` : ''}; ` +
          `see ${logFile}\n${redact(`${tail(logFile, 15)}\n${tail(stdoutFile, 10)}`, secrets)}`,
        { cause: error, details: { port, controllerPort, portTaken } },
      )
    } finally {
      proc.off('exit', onExit)
    }
    lastReadyMs = Date.now() - startedAt
  }

  const stopProcess = async (signal: StopSignal = 'SIGTERM'): Promise<void> => {
    const proc = child
    if (proc?.pid === undefined || record === undefined) return
    if (signal === 'SIGKILL') {
      const exited =
        proc.exitCode !== null || proc.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      // Only while it is not reaped: its pid could be another process's after that.
      signalChild(proc, 'SIGKILL')
      await exited
    } else {
      await stopChild(proc, options.stopGraceMs ?? 30_000)
    }
    unregisterProcess(home, record)
    child = undefined
  }

  await start()
  return {
    brokers,
    port,
    controllerPort,
    nodeId,
    version,
    logFile,
    workDir,
    pid: () => child?.pid ?? -1,
    pids: () => (child?.pid === undefined ? [] : [child.pid]),
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    readyMs: () => lastReadyMs,
    stopProcess,
    start: async () => {
      if (removed)
        throw new AppError('DEV_STACK_BROKER_START_FAILED', 'this broker was stopped and removed')
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
        // It exited on its own: forget it, then start it again.
        if (record) unregisterProcess(home, record)
        child = undefined
      }
      if (child === undefined) await start()
    },
    stop: async () => {
      await stopProcess()
      if (!removed) rmSync(workDir, { recursive: true, force: true })
      removed = true
    },
  }
}
