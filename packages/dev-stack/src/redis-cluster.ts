/*
 * A local Redis Cluster of real `redis-server` processes (Debian's 7.0, TLS built in): `masters`
 * masters with `replicasPerMaster` replicas each, every node a process of its own with its own
 * client port, cluster-bus port and folder, joined by `redis-cli --cluster create`. ACLs always:
 * `default` is off, `admin` may do everything (the cluster's own checks, `redis-cli --cluster` and
 * replication use it), and each product user gets {@link PRODUCT_REDIS_ACL}, all with random
 * passwords. Optionally TLS from a private CA made at start, on every client port, replication and
 * the cluster bus.
 *
 *   <home>/redis-cluster/<id>/<port>/redis.conf      the node's config (0600: it holds masterauth)
 *   <home>/redis-cluster/<id>/<port>/redis.log       its log (also nodes.conf, stdout.log)
 *   <home>/redis-cluster/<id>/tls/ca.pem, ca-key.pem, node.pem, node-key.pem
 *   <home>/redis-cluster/<id>/secrets/<user>.password  0600, no trailing newline
 *
 * No password is ever on a command line (`ps` shows those): the nodes read theirs from their
 * redis.conf (the users' as SHA-256 hashes, only `masterauth` in clear), and redis-cli gets
 * admin's through the `REDISCLI_AUTH` variable.
 */
import { execFile, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import { spawnLogged, stopChild, tail } from './child.js'
import { redact } from './kafka-broker.js'
import { ADMIN_USER, writeUserPasswords } from './kafka-security.js'
import { devStackHome } from './paths.js'
import { freePort } from './ports.js'
import { assertPrerequisites } from './prerequisites.js'
import {
  cleanupOrphans,
  registerProcess,
  unregisterProcess,
  type ProcessRecord,
} from './process-registry.js'
import { createCa, issueLeaf, LOCALHOST_SAN } from './tls-files.js'

/**
 * The ACL rules of the product's Redis users, as in `ACL SETUSER <user> on ><password> <rules>` or
 * a `user` line of redis.conf: every key of the product starts with `wcs:` (BullMQ's prefix is
 * `wcs:{bullmq}`), every pub/sub channel, every command but the dangerous ones (FLUSHALL, CONFIG,
 * KEYS, DEBUG, …), plus what a cluster client needs of those: INFO, the CLUSTER subcommands that
 * read the topology, READONLY/READWRITE, naming its connection, and WAIT.
 */
export const PRODUCT_REDIS_ACL =
  '~wcs:* &* +@all -@dangerous +info +cluster|slots +cluster|shards +cluster|nodes +cluster|info +cluster|myid +readonly +readwrite +client|setname +client|getname +client|id +client|info +wait'

/** The rules of {@link ADMIN_USER} in the cluster: everything. */
const ADMIN_ACL = '~* &* +@all'

/** The most masters and replicas per master a local cluster may have. */
export const MAX_REDIS_CLUSTER_MASTERS = 9
export const MAX_REDIS_REPLICAS_PER_MASTER = 3

/** Redis Cluster's slot count. */
const SLOTS = 16_384

/** How long a stopping node gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Options for {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters, each serving an equal share of the slots (default 3; 3 to {@link MAX_REDIS_CLUSTER_MASTERS}). */
  masters?: number
  /** Replicas of each master (default 1; 0 to {@link MAX_REDIS_REPLICAS_PER_MASTER}). */
  replicasPerMaster?: number
  /**
   * TLS on every client port, replication and the cluster bus, from a private CA made at start
   * (default false). Clients verify the nodes' certificate (SAN `IP:127.0.0.1, DNS:localhost`)
   * and present none: they authenticate with their ACL password.
   */
  tls?: boolean
  /** ACL users to create for the product, each with {@link PRODUCT_REDIS_ACL} and a random password. */
  users?: readonly string[]
  home?: string
  /** How long the whole cluster may take to be ready (default 60 s). */
  readyTimeoutMs?: number
  /** Keeps running after this process exits (for `stack:up`). Default false. */
  detached?: boolean
  /** Each node in a process group of its own (for `npm start`). Default false. */
  ownProcessGroup?: boolean
}

/** One `redis-server` of a {@link RedisCluster}. */
export interface RedisClusterNode {
  /** Client port on 127.0.0.1 (the TLS port when tls). */
  readonly port: number
  /** Its cluster-bus port. */
  readonly busPort: number
  /** Its folder: redis.conf, nodes.conf, redis.log. */
  readonly dir: string
  readonly logFile: string
  /** The pid of its process (of the last one after a kill), -1 before the first start. */
  pid(): number
  /** Whether its process is running. */
  running(): boolean
  /** Sends a signal to the process (SIGKILL for the failover test); does not wait. */
  kill(signal: NodeJS.Signals): void
  /** Starts it again with the same folder/config (it rejoins as a replica after a failover). */
  start(): Promise<void>
  /** Stops its process (SIGTERM, then SIGKILL after a grace), keeping its folder. */
  stopProcess(): Promise<void>
  /**
   * Runs one command on this node with `redis-cli` as admin and resolves with the raw output
   * (`ROLE`, `INFO replication`, …); redis-cli options such as `--json` may come first.
   */
  command(...args: string[]): Promise<string>
}

/** A running local Redis Cluster. */
export interface RedisCluster {
  /** The nodes, in port order of creation (the first `masters` were created masters). */
  readonly nodes: readonly RedisClusterNode[]
  /** "127.0.0.1:p1,127.0.0.1:p2,…" every node, for REDIS_CLUSTER_NODES */
  readonly seeds: string
  readonly tls?: { caFile: string }
  /** `admin` (may do everything), then the product users asked for. */
  readonly users: readonly string[]
  /** The cluster's folder, removed by {@link RedisCluster.stop}. */
  readonly workDir: string
  /** How long the start took until the cluster was ready. */
  readonly readyMs: number
  /**
   * A file holding the user's password (0600), for REDIS_PASSWORD_FILE.
   * @throws RangeError for a user the cluster does not have.
   */
  passwordFile(user: string): string
  /** @throws RangeError for a user the cluster does not have. */
  password(user: string): string
  /**
   * The client variables for `user` (or none): REDIS_CLUSTER_NODES, REDIS_USERNAME,
   * REDIS_PASSWORD_FILE, REDIS_TLS=true and REDIS_TLS_CA_FILE (when tls), as packages/redis's
   * `readRedisTarget` reads them. No password is among them.
   * @throws RangeError for a user the cluster does not have.
   */
  env(user?: string): Record<string, string>
  /** The node that is master of the slot of `key` now (asks CLUSTER SLOTS/SHARDS with redis-cli or a plain TCP/TLS client; hash tags respected). */
  masterOf(key: string): Promise<RedisClusterNode>
  /**
   * Resolves when cluster_state:ok on every running node and all 16384 slots are served by running
   * masters (in every running node's view), and every running replica's link to its master is up.
   * @throws AppError `DEV_STACK_REDIS_CLUSTER_FAILED` with what was still wrong, after
   *   `timeoutMs` (default 30 s).
   */
  waitHealthy(timeoutMs?: number): Promise<void>
  /** Stops every process (SIGTERM then SIGKILL after a grace) and removes the folder. Safe twice. */
  stop(): Promise<void>
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A value for redis.conf: quoted, so a folder with spaces stays one argument. */
const quoted = (value: string): string => JSON.stringify(value)

/** `key:value` lines of INFO / CLUSTER INFO. */
function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/u)) {
    const at = line.indexOf(':')
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim()
  }
  return out
}

/** CLUSTER SLOTS (`redis-cli --json`): each range with its master's port. */
function parseSlots(json: string): { start: number; end: number; masterPort: number }[] {
  const ranges = JSON.parse(json) as unknown
  if (!Array.isArray(ranges)) throw new Error(`CLUSTER SLOTS answered ${json.slice(0, 200)}`)
  return ranges.map((range) => {
    const [start, end, master] = range as [number, number, [string, number]]
    return { start, end, masterPort: master[1] }
  })
}

/** What the nodes of one cluster share. */
interface Shared {
  home: string
  workDir: string
  detached: boolean
  ownGroup: boolean
  readyTimeoutMs: number
  /** Passwords, for redacting what is shown of logs and redis-cli's output. */
  secrets: readonly string[]
  /** Runs redis-cli as admin (on `port` when given). */
  cli(port: number | undefined, args: readonly string[], timeoutMs?: number): Promise<string>
  removed(): boolean
}

/** The node's redis.conf (0600: `masterauth` is admin's password in clear). */
function nodeConfig(options: {
  port: number
  busPort: number
  dir: string
  logFile: string
  users: readonly { name: string; password: string }[]
  tls?: { caFile: string; certFile: string; keyFile: string }
}): string {
  const { port, busPort, dir, logFile, tls } = options
  const sha256 = (password: string): string => createHash('sha256').update(password).digest('hex')
  const admin = options.users.find((u) => u.name === ADMIN_USER)!
  return [
    '# Made by @wolkvox-chat-stream/dev-stack (redis-cluster.ts) for one run; removed at stop.',
    'bind 127.0.0.1',
    ...(tls
      ? [
          // TLS only: no plain port. Clients verify the nodes' certificate but present none
          // (tls-auth-clients no): they authenticate with their ACL user and password.
          'port 0',
          `tls-port ${port}`,
          `tls-cert-file ${quoted(tls.certFile)}`,
          `tls-key-file ${quoted(tls.keyFile)}`,
          `tls-ca-cert-file ${quoted(tls.caFile)}`,
          'tls-auth-clients no',
          'tls-replication yes',
          'tls-cluster yes',
        ]
      : [`port ${port}`]),
    // Its own bus port: the default, port + 10000, is past 65535 for many ports the OS hands out.
    `cluster-port ${busPort}`,
    'daemonize no',
    `dir ${quoted(dir)}`,
    `logfile ${quoted(logFile)}`,
    "save ''",
    'appendonly no',
    // A replica (a restarted old master too) syncs at once instead of waiting 5 s for company.
    'repl-diskless-sync-delay 0',
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    // 2 s instead of 15 s: a killed master is failed over in about 4 s, so failover tests are short.
    'cluster-node-timeout 2000',
    'cluster-announce-ip 127.0.0.1',
    'user default off',
    ...options.users.map(
      (u) =>
        `user ${u.name} on #${sha256(u.password)} ${u.name === ADMIN_USER ? ADMIN_ACL : PRODUCT_REDIS_ACL}`,
    ),
    `masteruser ${ADMIN_USER}`,
    `masterauth ${admin.password}`,
    '',
  ].join('\n')
}

interface NodeHandle extends RedisClusterNode {
  /** Stops it with a short grace (a failed start). */
  abort(): Promise<void>
}

function clusterNode(shared: Shared, port: number, busPort: number): NodeHandle {
  const dir = join(shared.workDir, String(port))
  const confFile = join(dir, 'redis.conf')
  const logFile = join(dir, 'redis.log')
  let child: ChildProcess | undefined
  let record: ProcessRecord | undefined
  /** Resolves once the current process has exited; set when SIGKILL was sent to it. */
  let dying: Promise<void> | undefined

  const running = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null
  const forget = (): void => {
    if (record !== undefined) unregisterProcess(shared.home, record)
    record = undefined
  }
  const failure = (what: string): AppError =>
    new AppError(
      'DEV_STACK_REDIS_CLUSTER_FAILED',
      `redis-server of the cluster on port ${port} ${what}; see ${logFile}\n` +
        redact(tail(logFile, 15), shared.secrets),
      { details: { port } },
    )

  const start = async (): Promise<void> => {
    if (shared.removed()) throw failure('was stopped and its folder removed')
    // Killed a moment ago: its exit may not be seen yet, and its port is not free before it is.
    if (dying !== undefined) await dying
    if (running()) return
    forget()
    const proc = spawnLogged('redis-server', [confFile], {
      logFile: join(dir, 'stdout.log'),
      detached: shared.detached,
      ownGroup: shared.ownGroup,
      cwd: dir,
    })
    child = proc
    dying = undefined
    if (proc.pid === undefined) throw failure('could not be started')
    // redis-server rewrites its process title to `redis-server 127.0.0.1:<port> [cluster]`.
    const own: ProcessRecord = {
      kind: 'redis',
      pid: proc.pid,
      ownerPid: shared.detached ? null : process.pid,
      marker: `:${port}`,
      workDir: shared.workDir,
      ports: [port, busPort],
      startedAt: new Date().toISOString(),
    }
    record = own
    registerProcess(shared.home, own)
    // A record outliving its process would let any run's cleanupOrphans remove the cluster's
    // folder while the cluster still runs (a node killed by a failover test, before its restart).
    proc.once('exit', () => {
      if (record === own) forget()
    })
    const deadline = Date.now() + shared.readyTimeoutMs
    while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
      const answer = await shared.cli(port, ['PING'], 1_000).catch(() => '')
      if (answer === 'PONG') return
      await pause(50)
    }
    const ended = proc.exitCode ?? proc.signalCode
    await stopChild(proc, 2_000)
    forget()
    throw failure(ended === null ? 'did not answer PING' : `exited (${ended})`)
  }

  const stopWithin = async (graceMs: number): Promise<void> => {
    if (child !== undefined && running()) await stopChild(child, graceMs)
    forget()
  }

  return {
    port,
    busPort,
    dir,
    logFile,
    pid: () => child?.pid ?? -1,
    running,
    kill: (signal) => {
      const proc = child
      if (!running() || proc?.pid === undefined) return
      if (signal === 'SIGKILL') {
        // Certain death: its record goes now, not at the exit event (see start).
        forget()
        dying = new Promise((resolve) => proc.once('exit', () => resolve()))
      }
      process.kill(proc.pid, signal)
    },
    start,
    stopProcess: () => stopWithin(STOP_GRACE_MS),
    abort: () => stopWithin(1_000),
    command: (...args) => shared.cli(port, args),
  }
}

/** `count` distinct ports that were free a moment ago. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/** Runs redis-cli as admin, its password by variable; rejects with its output on a failure. */
function adminCli(
  adminPassword: string,
  caFile: string | undefined,
): (port: number | undefined, args: readonly string[], timeoutMs?: number) => Promise<string> {
  const env = { ...process.env, REDISCLI_AUTH: adminPassword }
  const connection = [
    '-h',
    '127.0.0.1',
    '--user',
    ADMIN_USER,
    ...(caFile === undefined ? [] : ['--tls', '--cacert', caFile]),
  ]
  return (port, args, timeoutMs = 5_000) =>
    new Promise((resolve, reject) => {
      execFile(
        'redis-cli',
        [...connection, ...(port === undefined ? [] : ['-p', String(port)]), ...args],
        { env, timeout: timeoutMs },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${stderr}${stdout}`.trim() || error.message))
          else resolve(stdout.trim())
        },
      )
    })
}

/** Checks a count option. */
function count(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AppError(
      'DEV_STACK_REDIS_CLUSTER_FAILED',
      `A local Redis Cluster has ${min} to ${max} ${name}, not ${value}`,
      { retriable: false },
    )
  }
  return value
}

/**
 * Starts a Redis Cluster of `masters` × (1 + `replicasPerMaster`) private `redis-server`s on
 * 127.0.0.1 (3 masters and 3 replicas by default), created with `redis-cli --cluster create`, and
 * resolves once every node answers, every node sees cluster_state:ok and all 16384 slots served,
 * and every replica's link to its master is up. Prints nothing. A failure stops every node
 * already started and removes the folder: nothing is left running.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_REDIS_CLUSTER_FAILED` (with the
 *   tail of the failing node's log, passwords redacted).
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = count('masters', options.masters ?? 3, 3, MAX_REDIS_CLUSTER_MASTERS)
  const replicas = count(
    'replicas per master',
    options.replicasPerMaster ?? 1,
    0,
    MAX_REDIS_REPLICAS_PER_MASTER,
  )
  for (const name of options.users ?? []) {
    if (!USER_NAME.test(name) || name === ADMIN_USER || name === 'default') {
      throw new RangeError(`"${name}" is not a valid name for a product's Redis user`)
    }
  }
  const users = [ADMIN_USER, ...new Set(options.users ?? [])]
  const home = options.home ?? devStackHome()
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  assertPrerequisites(options.tls ? ['redis-server', 'openssl'] : ['redis-server'])
  cleanupOrphans(home)

  const startedAt = Date.now()
  const workDir = join(
    home,
    'redis-cluster',
    `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
  )
  mkdirSync(workDir, { recursive: true, mode: 0o700 })
  const nodes: NodeHandle[] = []
  let removed = false
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stopProcess()))
    if (!removed) rmSync(workDir, { recursive: true, force: true })
    removed = true
  }

  try {
    const files = writeUserPasswords(join(workDir, 'secrets'), users)
    const credentials = users.map((name) => ({
      name,
      password: readFileSync(files.get(name)!, 'utf8'),
    }))
    const password = (user: string): string => {
      const found = credentials.find((c) => c.name === user)
      if (found === undefined) {
        throw new RangeError(`The Redis Cluster has no user "${user}" (it has ${users.join(', ')})`)
      }
      return found.password
    }
    let tls: { caFile: string; certFile: string; keyFile: string } | undefined
    if (options.tls) {
      const tlsDir = join(workDir, 'tls')
      const code = 'DEV_STACK_REDIS_CLUSTER_FAILED'
      const { caFile } = await createCa(tlsDir, {
        cn: 'wolkvox-dev-stack-redis-ca',
        days: 30,
        code,
      })
      const leaf = await issueLeaf(tlsDir, 'node', {
        cn: 'wolkvox-redis-node',
        // Server and client: the nodes are each other's clients on the bus and in replication.
        usage: 'serverAuth, clientAuth',
        san: LOCALHOST_SAN,
        days: 30,
        code,
      })
      tls = { caFile, ...leaf }
    }

    const shared: Shared = {
      home,
      workDir,
      detached: options.detached ?? false,
      ownGroup: options.ownProcessGroup ?? false,
      readyTimeoutMs,
      secrets: credentials.map((c) => c.password),
      cli: adminCli(password(ADMIN_USER), tls?.caFile),
      removed: () => removed,
    }
    const ports = await freePorts(masters * (1 + replicas) * 2)
    for (let i = 0; i < ports.length; i += 2) {
      const node = clusterNode(shared, ports[i]!, ports[i + 1]!)
      mkdirSync(node.dir, { recursive: true, mode: 0o700 })
      writeFileSync(
        join(node.dir, 'redis.conf'),
        nodeConfig({
          port: node.port,
          busPort: node.busPort,
          dir: node.dir,
          logFile: node.logFile,
          users: credentials,
          ...(tls ? { tls } : {}),
        }),
        { mode: 0o600 },
      )
      nodes.push(node)
    }
    const nodeAt = (port: number): NodeHandle | undefined => nodes.find((n) => n.port === port)

    const started = await Promise.allSettled(nodes.map((node) => node.start()))
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason

    try {
      await shared.cli(
        undefined,
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        Math.max(1_000, readyTimeoutMs - (Date.now() - startedAt)),
      )
    } catch (error) {
      // eslint-disable-next-line no-control-regex
      const output = (error as Error).message.replace(/\u001b\[[0-9;]*m/gu, '')
      throw new AppError(
        'DEV_STACK_REDIS_CLUSTER_FAILED',
        `redis-cli --cluster create failed:\n${redact(output.slice(-1_500), shared.secrets)}\n` +
          `${nodes[0]!.logFile}:\n${redact(tail(nodes[0]!.logFile, 10), shared.secrets)}`,
        { cause: error },
      )
    }

    /** What keeps the cluster from being healthy, or undefined when nothing does. */
    const unhealthy = async (): Promise<{ node: NodeHandle; reason: string } | undefined> => {
      const up = nodes.filter((n) => n.running())
      const upPorts = new Set(up.map((n) => n.port))
      const problems = await Promise.all(
        up.map(async (node): Promise<string | undefined> => {
          try {
            const state = parseInfo(await node.command('CLUSTER', 'INFO')).cluster_state
            if (state !== 'ok') return `cluster_state:${state ?? '?'}`
            let served = 0
            for (const range of parseSlots(await node.command('--json', 'CLUSTER', 'SLOTS'))) {
              if (upPorts.has(range.masterPort)) served += range.end - range.start + 1
            }
            if (served !== SLOTS) return `${served} of ${SLOTS} slots served by running masters`
            const replication = parseInfo(await node.command('INFO', 'replication'))
            if (replication.role === 'slave' && replication.master_link_status !== 'up') {
              return `replica of :${replication.master_port ?? '?'}, master_link_status:${replication.master_link_status ?? '?'}`
            }
            return undefined
          } catch (error) {
            return error instanceof Error ? error.message : String(error)
          }
        }),
      )
      const at = problems.findIndex((p) => p !== undefined)
      if (up.length === 0) return { node: nodes[0]!, reason: 'no node is running' }
      return at < 0 ? undefined : { node: up[at]!, reason: problems[at]! }
    }
    const waitHealthy = async (timeoutMs = 30_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const problem = await unhealthy()
        if (problem === undefined) return
        if (Date.now() >= deadline) {
          throw new AppError(
            'DEV_STACK_REDIS_CLUSTER_FAILED',
            `The Redis Cluster at ${nodes.map((n) => n.port).join(',')} is not healthy after ` +
              `${timeoutMs} ms: node :${problem.node.port}: ${redact(problem.reason, shared.secrets)}; ` +
              `see ${problem.node.logFile}\n` +
              redact(tail(problem.node.logFile, 15), shared.secrets),
            { retriable: true, details: { port: problem.node.port } },
          )
        }
        await pause(100)
      }
    }
    await waitHealthy(Math.max(1_000, readyTimeoutMs - (Date.now() - startedAt)))
    const readyMs = Date.now() - startedAt

    const passwordFile = (user: string): string => {
      password(user)
      return files.get(user)!
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`).join(',')
    return {
      nodes,
      seeds,
      ...(tls ? { tls: { caFile: tls.caFile } } : {}),
      users,
      workDir,
      readyMs,
      passwordFile,
      password,
      env: (user) => ({
        REDIS_CLUSTER_NODES: seeds,
        ...(user === undefined
          ? {}
          : { REDIS_USERNAME: user, REDIS_PASSWORD_FILE: passwordFile(user) }),
        ...(tls ? { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: tls.caFile } : {}),
      }),
      masterOf: async (key) => {
        let last: unknown = new Error('no node of the cluster is running')
        for (const node of nodes.filter((n) => n.running())) {
          try {
            const slot = Number(await node.command('CLUSTER', 'KEYSLOT', key))
            const range = parseSlots(await node.command('--json', 'CLUSTER', 'SLOTS')).find(
              (r) => slot >= r.start && slot <= r.end,
            )
            const master = range && nodeAt(range.masterPort)
            if (master) return master
            last = new Error(
              `no master serves slot ${slot} of "${key}" in the view of :${node.port}`,
            )
          } catch (error) {
            last = error
          }
        }
        throw new AppError(
          'DEV_STACK_REDIS_CLUSTER_FAILED',
          `No master of "${key}" found: ${last instanceof Error ? last.message : String(last)}`,
          { retriable: true, cause: last },
        )
      },
      waitHealthy,
      stop: stopAll,
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.abort()))
    await stopAll()
    throw error
  }
}
