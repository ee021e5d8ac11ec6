import { spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import { waitForKafka } from '@wolkvox-chat-stream/kafka'
import { spawnLogged, stopChild, tail, terminate } from './child.js'
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
   * Broker version from Maven Central. Default: `KAFKA_VERSION` from the environment, else
   * `DEFAULT_KAFKA_VERSION` (3.9.2); see {@link kafkaVersionFromEnv}.
   */
  version?: string
  /** Maximum heap in MiB (default 512). */
  heapMb?: number
  /** How long to wait for the first successful client call (default 120 s). */
  readyTimeoutMs?: number
  /** Keeps running after this process exits (for `stack:up`). Default false. */
  detached?: boolean
  /**
   * Runs in a process group of its own, so a terminal's Ctrl-C reaches only this process, which
   * then stops the broker last (for `npm start`). Default false.
   */
  ownProcessGroup?: boolean
  /** Cache and run folder (default {@link devStackHome}). */
  home?: string
  /** Extra `server.properties` entries. */
  properties?: Record<string, string | number | boolean>
  onProgress?: (line: string) => void
}

/** A running single-node KRaft broker. */
export interface KafkaBroker {
  /** Bootstrap address, `127.0.0.1:<port>`. */
  readonly brokers: string
  readonly port: number
  readonly controllerPort: number
  readonly version: string
  readonly logFile: string
  readonly workDir: string
  pid(): number
  /** Milliseconds from spawn to the first successful client call, for the last start. */
  readyMs(): number
  /** Stops the broker (SIGTERM, controlled shutdown), keeping its data for {@link KafkaBroker.start}. */
  stopProcess(): Promise<void>
  /** Starts it again on the same ports with the same data, e.g. after {@link KafkaBroker.stopProcess}. */
  start(): Promise<void>
  /** Stops the broker and removes its folder. Safe to call twice. */
  stop(): Promise<void>
}

const MAX_RECORD_BYTES = 16 * 1024 * 1024

/** A KRaft cluster id: 16 random bytes as base64url, as `kafka-storage random-uuid` prints it. */
function clusterId(): string {
  return randomBytes(16).toString('base64url')
}

function serverProperties(options: {
  port: number
  controllerPort: number
  dataDir: string
  extra: Record<string, string | number | boolean>
}): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${options.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${options.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${options.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': options.dataDir,
    // One node: every internal topic must fit on it, or groups hang without a coordinator.
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

/**
 * Starts a single-node Apache Kafka broker in KRaft mode (combined broker and controller) on
 * 127.0.0.1, from the jars Maven fetched, and resolves once a real client call succeeds.
 * Orphans of killed runs are removed first.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_JARS_FETCH_FAILED`,
 *   `DEV_STACK_BROKER_START_FAILED` (with the log's tail).
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
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
        {
          details: { port: p },
        },
      )
    }
  }

  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const workDir = join(home, 'brokers', id)
  const dataDir = join(workDir, 'data')
  const logFile = join(workDir, 'server.log')
  const stdoutFile = join(workDir, 'stdout.log')
  mkdirSync(dataDir, { recursive: true })
  const propertiesFile = join(workDir, 'server.properties')
  writeFileSync(
    propertiesFile,
    serverProperties({ port, controllerPort, dataDir, extra: options.properties ?? {} }),
  )
  const logging = loggingConfig(version, logFile)
  writeFileSync(join(workDir, logging.file), logging.text)

  const classpath = `${libs}/*`
  const marker = `-Dwolkvox.devstack=${id}`
  const format = spawnSync(
    'java',
    [
      `${logging.flag}${join(workDir, logging.file)}`,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId()}`,
      '-c',
      propertiesFile,
      '--ignore-formatted',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  )
  if (format.status !== 0) {
    throw new AppError(
      'DEV_STACK_BROKER_START_FAILED',
      `Formatting the broker's storage failed:\n${`${format.stdout}${format.stderr}`.trim().slice(-2_000)}`,
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
      throw new AppError('DEV_STACK_BROKER_START_FAILED', 'java could not be started')
    }
    record = {
      kind: 'kafka',
      pid: proc.pid,
      ownerPid: options.detached ? null : process.pid,
      marker,
      workDir,
      ports: [port, controllerPort],
      startedAt: new Date(startedAt).toISOString(),
    }
    registerProcess(home, record)
    const exited = new AbortController()
    const onExit = (): void => exited.abort()
    proc.once('exit', onExit)
    try {
      await waitForKafka([`127.0.0.1:${port}`], {
        timeoutMs: options.readyTimeoutMs ?? 120_000,
        signal: exited.signal,
      })
    } catch (error) {
      await terminate(proc.pid, 5_000)
      unregisterProcess(home, record)
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `Kafka ${version} on 127.0.0.1:${port} ${exited.signal.aborted ? 'exited' : 'did not become ready'}; ` +
          `see ${logFile}\n${tail(logFile, 15)}\n${tail(stdoutFile, 10)}`,
        { cause: error },
      )
    } finally {
      proc.off('exit', onExit)
    }
    lastReadyMs = Date.now() - startedAt
  }

  const stopProcess = async (): Promise<void> => {
    if (child?.pid === undefined || record === undefined) return
    await stopChild(child, 30_000)
    unregisterProcess(home, record)
    child = undefined
  }

  await start()
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    version,
    logFile,
    workDir,
    pid: () => child?.pid ?? -1,
    readyMs: () => lastReadyMs,
    stopProcess,
    start: async () => {
      if (removed)
        throw new AppError('DEV_STACK_BROKER_START_FAILED', 'this broker was stopped and removed')
      if (child === undefined) await start()
    },
    stop: async () => {
      await stopProcess()
      if (!removed) rmSync(workDir, { recursive: true, force: true })
      removed = true
    },
  }
}
