/*
 * `npm start`: the whole pipeline on this machine. A private Kafka broker and redis-server (unless
 * KAFKA_BROKERS / REDIS_URL name others), with SCHEMA_REGISTRY=true an Apicurio Registry (its
 * Confluent API passed to every service as SCHEMA_REGISTRY_URL), the simulator (unless a real operation is configured),
 * the poller starting a day back, the sentiment aggregator, the trámite classifier, the chat
 * quality service and the dashboard. Prints where each listens, shows live progress, and on Ctrl-C
 * (SIGINT), SIGTERM or SIGHUP stops the services in reverse order, then the broker, Redis and the
 * registry, leaving no process.
 * Each service runs in a process group of its own, so a terminal's Ctrl-C reaches only this
 * process, which stops them in order; their logs go to files in the run folder.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import { notReaped, spawnLogged, stopChild, tail } from './child.js'
import { startKafkaBroker, type LocalKafka } from './kafka-broker.js'
import { startKafkaCluster } from './kafka-cluster.js'
import { devStackHome } from './paths.js'
import { freePort, isPortFree } from './ports.js'
import { assertPrerequisites, type Prerequisite } from './prerequisites.js'
import { cleanupOrphans, isAlive, registerProcess, unregisterProcess } from './process-registry.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import { markInitialised } from './stack.js'
import {
  findJava,
  registryJavaMajor,
  schemaRegistryVersionFromEnv,
  startSchemaRegistry,
  type SchemaRegistry,
} from './schema-registry.js'
import {
  partNames,
  partPorts,
  readStartConfig,
  SIMULATOR_SERVER,
  SIMULATOR_TOKEN,
  type PartName,
  type StartConfig,
} from './start-config.js'
import {
  consumerFigures,
  pollerFigures,
  progressLine,
  type Snapshot,
  type StatusLike,
} from './start-progress.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** How each part is run and how long it may take to stop before it is killed. */
const commands: Record<PartName, { script: string; args: string[]; graceMs: number }> = {
  simulator: { script: 'services/wolkvox-simulator/src/main.ts', args: [], graceMs: 5_000 },
  // The poller finishes the window in flight (POLL_SHUTDOWN_TIMEOUT, 20 s by default).
  poller: { script: 'services/poller/src/main.ts', args: ['run'], graceMs: 30_000 },
  sentiment: { script: 'services/sentiment-aggregator/src/main.ts', args: [], graceMs: 20_000 },
  classifier: { script: 'services/tramite-classifier/src/cli.ts', args: ['run'], graceMs: 20_000 },
  quality: { script: 'services/chat-quality/src/main.ts', args: [], graceMs: 20_000 },
  dashboard: { script: 'services/dashboard/src/main.ts', args: [], graceMs: 5_000 },
}
/** The consumer services, whose figures the progress line shows. */
const consumerParts = ['sentiment', 'classifier', 'quality'] as const
const LISTEN_TIMEOUT_MS = 120_000
const PROGRESS_EVERY_MS = 2_000
/** Without a terminal, one plain progress line per this many ticks (10 s). */
const PLAIN_EVERY_TICKS = 5
const KEEP_RUNS = 10

/** A service started by this run. */
interface Part {
  name: PartName
  url: string
  port: number
  logFile: string
  child: ChildProcess
  pid: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stopping: boolean
}

/** What is running, so that everything can be stopped from any point of the start. */
interface Running {
  runDir: string
  parts: Part[]
  kafka?: LocalKafka
  redis?: RedisServer
  schemaRegistry?: SchemaRegistry
  kafkaBrokers?: string
  redisUrl?: string
  /** The Confluent-compatible API given to the services as `SCHEMA_REGISTRY_URL`, if any. */
  schemaRegistryUrl?: string
  firstAggregateMs?: number
}

// --- output: one refreshed status line on a terminal, plain lines otherwise ---------------------

const tty = process.stdout.isTTY
let statusLine = ''
function say(line = ''): void {
  if (tty && statusLine !== '') process.stdout.write('\r\x1b[2K')
  process.stdout.write(`${line}\n`)
  if (tty && statusLine !== '') process.stdout.write(statusLine)
}
function showStatus(line: string): void {
  const width = process.stdout.columns ?? 120
  statusLine = line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line
  process.stdout.write(`\r\x1b[2K${statusLine}`)
}
function clearStatus(): void {
  if (tty && statusLine !== '') process.stdout.write('\r\x1b[2K')
  statusLine = ''
}
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
const pad = (text: string, width: number): string => text.padEnd(width)

// --- starting -----------------------------------------------------------------------------------

/** The port of each part: the one asked for (all checked before anything starts) or a free one. */
async function choosePorts(
  config: Readonly<StartConfig>,
  names: readonly PartName[],
): Promise<Record<PartName, number>> {
  const chosen = {} as Record<PartName, number>
  const busy: PartName[] = []
  const taken = new Set(Object.values(config.ports).filter((p) => p !== 0))
  for (const name of names) {
    const wanted = config.ports[name]
    if (wanted !== 0) {
      if (await isPortFree(wanted)) chosen[name] = wanted
      else busy.push(name)
      continue
    }
    let port = await freePort()
    while (taken.has(port)) port = await freePort()
    taken.add(port)
    chosen[name] = port
  }
  if (busy.length > 0) {
    const list = busy.map((n) => `${config.ports[n]} (the ${n}, ${partPorts[n].variable})`)
    const fix = busy.map((n) => `${partPorts[n].variable}=0`).join(' ')
    throw new AppError(
      'START_PORT_IN_USE',
      `Already in use on 127.0.0.1: ${list.join(', ')}. Is another npm start (or that service) ` +
        `running? Stop it, or start with ${fix} (0 picks a free port).`,
      { details: { busy: busy.map((n) => config.ports[n]) } },
    )
  }
  return chosen
}

function newRunDir(home: string): string {
  const runs = join(home, 'runs')
  mkdirSync(runs, { recursive: true })
  // Old runs' logs are kept for a while, not forever.
  const old = readdirSync(runs).sort()
  for (const name of old.slice(0, Math.max(0, old.length - (KEEP_RUNS - 1)))) {
    rmSync(join(runs, name), { recursive: true, force: true })
  }
  const stamp = new Date().toISOString().replace(/[-:]/gu, '').replace('T', '-').slice(0, 15)
  return join(runs, `${stamp}-${process.pid}`)
}

function writeRunFile(running: Running, startedAt: number): void {
  const record = {
    pid: process.pid,
    startedAt: new Date(startedAt).toISOString(),
    kafkaBrokers: running.kafkaBrokers ?? null,
    redisUrl: running.redisUrl ?? null,
    kafka: running.kafka
      ? { pid: running.kafka.pid(), pids: running.kafka.pids(), log: running.kafka.logFile }
      : null,
    redis: running.redis ? { pid: running.redis.pid() } : null,
    schemaRegistryUrl: running.schemaRegistryUrl ?? null,
    schemaRegistry: running.schemaRegistry
      ? { pid: running.schemaRegistry.pid(), log: running.schemaRegistry.logFile }
      : null,
    parts: running.parts.map((p) => ({ name: p.name, pid: p.pid, url: p.url, log: p.logFile })),
    firstAggregateMs: running.firstAggregateMs ?? null,
  }
  writeFileSync(join(running.runDir, 'start.json'), `${JSON.stringify(record, null, 2)}\n`)
}

function spawnPart(
  name: PartName,
  port: number,
  env: NodeJS.ProcessEnv,
  running: Running,
  home: string,
): Part {
  const { script, args } = commands[name]
  const path = join(repoRoot, script)
  const logFile = join(running.runDir, `${name}.log`)
  const child = spawnLogged(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', path, ...args],
    { logFile, detached: false, ownGroup: true, cwd: repoRoot, env },
  )
  if (child.pid === undefined) {
    throw new AppError('START_PART_FAILED', `The ${name} could not be started (node did not spawn)`)
  }
  const pid = child.pid
  // Recorded like the broker, so a later start removes it if this run is killed (SIGKILL).
  registerProcess(home, {
    kind: 'service',
    pid,
    ownerPid: process.pid,
    marker: path,
    ports: [port],
    startedAt: new Date().toISOString(),
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const part: Part = {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    logFile,
    child,
    pid,
    exited,
    stopping: false,
  }
  running.parts.push(part)
  return part
}

function partFailed(part: Part, what: string): AppError {
  return new AppError(
    'START_PART_FAILED',
    `The ${part.name} ${what}. Last lines of ${part.logFile}:\n${tail(part.logFile, 20)}`,
    { details: { part: part.name, log: part.logFile } },
  )
}

/** Resolves once `GET /healthz` answers 200; fails if the part exits first or takes too long. */
async function waitListening(part: Part, stop: AbortSignal): Promise<void> {
  const deadline = Date.now() + LISTEN_TIMEOUT_MS
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  void part.exited.then((e) => (exit = e))
  while (!stop.aborted) {
    if (exit !== undefined)
      throw partFailed(part, `exited during start (${exit.signal ?? `code ${exit.code}`})`)
    if (Date.now() > deadline)
      throw partFailed(part, `did not answer on ${part.url} within ${LISTEN_TIMEOUT_MS / 1000} s`)
    try {
      const response = await fetch(`${part.url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      await response.body?.cancel()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Whether `npm start` starts its own registry: SCHEMA_REGISTRY=true without a SCHEMA_REGISTRY_URL. */
const startsRegistry = (config: Readonly<StartConfig>): boolean =>
  config.schemaRegistry && config.schemaRegistryUrl === undefined

async function startStores(
  config: Readonly<StartConfig>,
  running: Running,
  home: string,
): Promise<void> {
  // The usual ports when free (as stack:up), else free ones; KAFKA_PORT / REDIS_PORT=0: free ones.
  const kafkaPort = config.kafkaPort ?? ((await isPortFree(9092)) ? 9092 : 0)
  const redisPort = config.redisPort ?? ((await isPortFree(6379)) ? 6379 : 0)
  const started = Date.now()
  const clusterPorts = async (): Promise<(number | undefined)[]> => {
    const ports: (number | undefined)[] = []
    for (let i = 0; i < config.kafkaNodes; i++) {
      const wanted = kafkaPort === 0 ? 0 : kafkaPort + i
      ports.push(wanted !== 0 && (i === 0 || (await isPortFree(wanted))) ? wanted : undefined)
    }
    return ports
  }
  const [kafka, redis, registry] = await Promise.allSettled([
    config.kafkaBrokers !== undefined
      ? Promise.resolve(undefined)
      : config.kafkaNodes > 1
        ? clusterPorts()
            .then((ports) =>
              startKafkaCluster({
                home,
                nodes: config.kafkaNodes,
                ports,
                ownProcessGroup: true,
                onProgress: (line) => say(`  ${line}`),
              }),
            )
            .then((cluster) => (running.kafka = cluster))
        : startKafkaBroker({
            home,
            port: kafkaPort === 0 ? undefined : kafkaPort,
            ownProcessGroup: true,
            onProgress: (line) => say(`  ${line}`),
          }).then((broker) => (running.kafka = broker)),
    config.redisUrl !== undefined
      ? Promise.resolve(undefined)
      : startRedisServer({
          home,
          port: redisPort === 0 ? undefined : redisPort,
          ownProcessGroup: true,
        }).then(async (server) => {
          running.redis = server
          // New, so it cannot have lost a lease: the first poll need not wait one POLL_LOCK_TTL.
          await markInitialised(server.url)
          return server
        }),
    startsRegistry(config)
      ? startSchemaRegistry({
          home,
          ownProcessGroup: true,
          onProgress: (line) => say(`  ${line}`),
        }).then((registryUp) => (running.schemaRegistry = registryUp))
      : Promise.resolve(undefined),
  ])
  if (kafka.status === 'rejected') throw kafka.reason
  if (redis.status === 'rejected') throw redis.reason
  if (registry.status === 'rejected') throw registry.reason
  running.schemaRegistryUrl = running.schemaRegistry?.ccompatUrl ?? config.schemaRegistryUrl
  running.redisUrl = config.redisUrl ?? running.redis!.url
  running.kafkaBrokers = config.kafkaBrokers ?? running.kafka!.brokers
  say(
    `  ${pad('redis', 11)}${pad(running.redisUrl, 40)}${running.redis ? 'private redis-server, data thrown away at the end' : 'REDIS_URL, as given'}`,
  )
  say(
    `  ${pad('kafka', 11)}${pad(`${running.kafkaBrokers} `, 40)}${running.kafka ? `Kafka ${running.kafka.version}${config.kafkaNodes > 1 ? `, ${config.kafkaNodes} nodes` : ''}, ready in ${seconds(Date.now() - started)}; data thrown away at the end` : 'KAFKA_BROKERS, as given'}`,
  )
  if (running.schemaRegistryUrl !== undefined) {
    const own = running.schemaRegistry
    say(
      `  ${pad('registry', 11)}${pad(`${running.schemaRegistryUrl} `, 40)}${own ? `Apicurio Registry ${own.version} (Confluent API), ready in ${seconds(own.readyMs)}; schemas thrown away at the end` : 'SCHEMA_REGISTRY_URL, as given'}`,
    )
  }
  if (config.kafkaBrokers === undefined && config.redisUrl !== undefined) {
    say(
      '  note: a fresh broker with the Redis at REDIS_URL: state there from an earlier run refers to another broker; use an empty Redis if figures look wrong.',
    )
  }
}

function partEnv(
  name: PartName,
  ports: Record<PartName, number>,
  config: Readonly<StartConfig>,
  running: Running,
): NodeJS.ProcessEnv {
  const local = (part: PartName): string => `http://127.0.0.1:${ports[part]}`
  const common = {
    ...process.env,
    KAFKA_BROKERS: running.kafkaBrokers,
    REDIS_URL: running.redisUrl,
    ...(running.schemaRegistryUrl === undefined
      ? {}
      : { SCHEMA_REGISTRY_URL: running.schemaRegistryUrl }),
    HTTP_PORT: String(ports[name]),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  }
  switch (name) {
    case 'simulator':
      return { ...common, SIM_HOST: '127.0.0.1', SIM_TOKENS: SIMULATOR_TOKEN }
    case 'poller':
      return {
        ...common,
        POLL_START: config.pollStart,
        POLL_INTERVAL: config.pollInterval,
        ...(config.source === 'simulator'
          ? {
              WOLKVOX_SERVER: SIMULATOR_SERVER,
              WOLKVOX_TOKEN: SIMULATOR_TOKEN,
              WOLKVOX_BASE_URL: local('simulator'),
            }
          : {}),
      }
    case 'dashboard':
      return {
        ...common,
        POLLER_URL: local('poller'),
        SENTIMENT_URL: local('sentiment'),
        CLASSIFIER_URL: local('classifier'),
        QUALITY_URL: local('quality'),
      }
    default:
      return common
  }
}

const detail = (name: PartName, part: Part, config: Readonly<StartConfig>): string => {
  switch (name) {
    case 'simulator':
      return `fake Wolkvox API: operation ${SIMULATOR_SERVER}, token ${SIMULATOR_TOKEN}`
    case 'poller':
      return `${config.source === 'simulator' ? 'the simulator' : 'the Wolkvox API'}, from ${config.pollStart} ago, every ${config.pollInterval}; ${part.url}/status`
    case 'sentiment':
      return `sentiment aggregator; ${part.url}/operations/<server>/agents`
    case 'classifier':
      return `trámite classifier; ${part.url}/rules`
    case 'quality':
      return `chat quality; ${part.url}/operations/<server>/quality/agents`
    case 'dashboard':
      return 'the live page'
  }
}

async function startAll(
  config: Readonly<StartConfig>,
  ports: Record<PartName, number>,
  running: Running,
  home: string,
  stop: AbortSignal,
): Promise<void> {
  const names = partNames.filter((n) => n !== 'simulator' || config.source === 'simulator')
  await startStores(config, running, home)
  // The simulator, then the poller (it provisions the topics), then the rest together.
  const waves: PartName[][] = [
    names.filter((n) => n === 'simulator'),
    ['poller'],
    names.filter((n) => n !== 'simulator' && n !== 'poller'),
  ]
  for (const wave of waves) {
    if (stop.aborted) return
    const parts = wave.map((name) =>
      spawnPart(name, ports[name], partEnv(name, ports, config, running), running, home),
    )
    const started = Date.now()
    await Promise.all(parts.map((part) => waitListening(part, stop)))
    if (stop.aborted) return
    for (const part of parts) {
      say(
        `  ${pad(part.name, 11)}${pad(part.url, 40)}${detail(part.name, part, config)} (${seconds(Date.now() - started)})`,
      )
    }
  }
}

// --- running ------------------------------------------------------------------------------------

async function getText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_500) })
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  return response.text()
}

async function scrape(running: Running): Promise<Snapshot> {
  const url = (name: PartName): string | undefined =>
    running.parts.find((p) => p.name === name)?.url
  const poller = url('poller')!
  const consumers: Snapshot['consumers'] = {}
  const [pollerResult, ...consumerResults] = await Promise.allSettled([
    // The light list: its summary is the whole fleet's, without a full read of any operation.
    Promise.all([getText(`${poller}/metrics`), getText(`${poller}/status/servers`)]).then(
      ([metrics, status]) => pollerFigures(metrics, JSON.parse(status) as StatusLike),
    ),
    ...consumerParts.map((name) => getText(`${url(name)!}/metrics`).then(consumerFigures)),
  ])
  consumerParts.forEach((name, i) => {
    const result = consumerResults[i]!
    consumers[name] = result.status === 'fulfilled' ? result.value : null
  })
  return {
    atMs: Date.now(),
    poller: pollerResult.status === 'fulfilled' ? pollerResult.value : null,
    consumers,
  }
}

/** Whether the page can show an aggregate yet: any agent with messages, through the dashboard. */
async function aggregatesVisible(dashboard: string): Promise<boolean> {
  const status = JSON.parse(await getText(`${dashboard}/api/poller/status/servers`)) as {
    servers: { server: string }[]
  }
  for (const { server } of status.servers) {
    const answer = JSON.parse(
      await getText(`${dashboard}/api/sentiment/operations/${encodeURIComponent(server)}/agents`),
    ) as { agents: { totals: { messages: number } }[] }
    if (answer.agents.some((a) => a.totals.messages > 0)) return true
  }
  return false
}

/**
 * Shows progress until a stop is asked (resolves 0) or a part exits on its own (resolves 1, with
 * its log's last lines printed).
 */
async function runUntilStopped(
  running: Running,
  stop: AbortSignal,
  startedAt: number,
): Promise<number> {
  const dashboard = running.parts.find((p) => p.name === 'dashboard')!.url
  let previous: Snapshot | undefined
  let lastError: string | undefined
  let ticks = 0
  const stopped = new Promise<'stop'>((resolve) => {
    if (stop.aborted) resolve('stop')
    stop.addEventListener('abort', () => resolve('stop'), { once: true })
  })
  const crashed = Promise.race(
    running.parts.map((part) => part.exited.then((exit) => ({ part, exit }))),
  )
  for (;;) {
    const tick = new Promise<'tick'>((resolve) =>
      setTimeout(() => resolve('tick'), PROGRESS_EVERY_MS),
    )
    const event = await Promise.race([tick, stopped, crashed])
    if (event === 'stop') return 0
    if (event !== 'tick') {
      if (event.part.stopping || stop.aborted) return 0
      clearStatus()
      const how = event.exit.signal ?? `code ${event.exit.code}`
      say(
        `\nThe ${event.part.name} exited on its own (${how}). Last lines of ${event.part.logFile}:`,
      )
      say(tail(event.part.logFile, 20))
      return 1
    }
    const snapshot = await scrape(running)
    const error = snapshot.poller?.lastError
    if (error && `${error.code}@${error.at}` !== lastError) {
      lastError = `${error.code}@${error.at}`
      say(
        `  poller error ${error.code} at ${error.at} (details: ${running.parts.find((p) => p.name === 'poller')!.logFile})`,
      )
    }
    if (
      running.firstAggregateMs === undefined &&
      (await aggregatesVisible(dashboard).catch(() => false))
    ) {
      running.firstAggregateMs = Date.now() - startedAt
      writeRunFile(running, startedAt)
      say(
        `First aggregates on the page ${seconds(running.firstAggregateMs)} after npm start: ${dashboard}/`,
      )
    }
    // Rates are over the time since the last line shown (a tick on a terminal, else longer).
    if (tty || ticks % PLAIN_EVERY_TICKS === 0) {
      const line = progressLine(snapshot, previous, startedAt)
      if (tty) showStatus(line)
      else say(line)
      previous = snapshot
    }
    ticks += 1
  }
}

// --- stopping -----------------------------------------------------------------------------------

/** Stops the services in reverse start order, then the broker, Redis and the registry; never throws. */
async function stopAll(running: Running, home: string): Promise<void> {
  for (const part of [...running.parts].reverse()) {
    part.stopping = true
    const started = Date.now()
    // Its whole process group (anything it started goes too), signalled only while the part is
    // not reaped: a pid or group already stopped could be another process's by then.
    await stopChild(part.child, commands[part.name].graceMs)
    unregisterProcess(home, { kind: 'service', pid: part.pid })
    const exit = await part.exited
    say(
      `  stopped ${pad(part.name, 11)}${seconds(Date.now() - started)}${exit.code !== null && exit.code !== 0 ? ` (exit code ${exit.code})` : ''}`,
    )
  }
  for (const [name, store] of [
    ['kafka', running.kafka],
    ['redis', running.redis],
    ['registry', running.schemaRegistry],
  ] as const) {
    if (store === undefined) continue
    const started = Date.now()
    await store
      .stop()
      .catch((error: unknown) => say(`  ${name} did not stop cleanly: ${String(error)}`))
    say(`  stopped ${pad(name, 11)}${seconds(Date.now() - started)}`)
  }
  const left = [
    ...running.parts.filter((p) => notReaped(p.child)).map((p) => p.pid),
    ...(running.kafka ? running.kafka.pids() : []),
    ...(running.redis ? [running.redis.pid()] : []),
    ...(running.schemaRegistry ? [running.schemaRegistry.pid()] : []),
  ].filter((pid) => pid > 0 && isAlive(pid))
  if (left.length > 0) say(`  still running after the stop: pids ${left.join(', ')}`)
}

async function main(): Promise<number> {
  const startedAt = Date.now()
  const stop = new AbortController()
  let signals = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1
    clearStatus()
    if (signals === 1) {
      say(`\n${signal}: stopping everything (services first, then Kafka and Redis)…`)
      stop.abort()
    } else {
      say('Still stopping; each part is killed if it takes too long.')
    }
  }
  // `on`, not `once`: a second Ctrl-C must not kill this process before its children.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)

  const config = readStartConfig(process.env)
  const home = devStackHome()
  const needed: Prerequisite[] = [
    ...(config.kafkaBrokers === undefined ? (['java'] as const) : []),
    ...(config.redisUrl === undefined ? (['redis-server'] as const) : []),
  ]
  assertPrerequisites(needed)
  // The registry's Java (21 for 3.x) is checked before anything starts.
  if (startsRegistry(config)) findJava(registryJavaMajor(schemaRegistryVersionFromEnv()))
  // A killed earlier run's services would hold the ports: they go first.
  cleanupOrphans(home)
  const ports = await choosePorts(
    config,
    partNames.filter((n) => n !== 'simulator' || config.source === 'simulator'),
  )
  const running: Running = { runDir: config.runDir ?? newRunDir(home), parts: [] }
  mkdirSync(running.runDir, { recursive: true })
  say('wolkvox-chat-stream: starting the whole pipeline')
  say(`  ${pad('logs', 11)}${running.runDir}`)
  let code = 0
  try {
    await startAll(config, ports, running, home, stop.signal)
    writeRunFile(running, startedAt)
    if (!stop.signal.aborted) {
      const dashboard = running.parts.find((p) => p.name === 'dashboard')!.url
      say()
      say(
        `Ready in ${seconds(Date.now() - startedAt)}. Open ${dashboard}/ — Ctrl-C stops everything.`,
      )
      say()
      code = await runUntilStopped(running, stop.signal, startedAt)
    }
  } catch (error) {
    clearStatus()
    say(
      `\nnpm start: ${isAppError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
    )
    code = 1
  } finally {
    clearStatus()
    say(code === 0 ? 'Stopping…' : 'Stopping what was started…')
    await stopAll(running, home)
    say(`Everything stopped. Logs stay in ${running.runDir}`)
  }
  return code
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    clearStatus()
    process.stderr.write(
      `npm start: ${isAppError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  },
)
