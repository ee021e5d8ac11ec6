/*
 * The poller fleet at scale (issue 23): BENCH_OPERATIONS operations (200) served by one simulator
 * process, polled live by BENCH_REPLICAS `poller run` processes (3 for the subject, 1 for the
 * baseline) on a BENCH_INTERVAL_S schedule (10 s: a 5-minute schedule scaled down so that a short
 * run holds many polls). After one interval of warm-up, for BENCH_SECONDS (60) it measures:
 *   - schedule adherence: how late each live poll started against its scheduler's time (the
 *     replicas' `poll done` log lines carry it), p50 and p99 over every poll of every replica;
 *   - the watermark lag at the end, per operation (`now − POLL_SETTLE_LAG − watermark`), p50 and max;
 *   - Redis commands per second and Redis memory per operation (INFO, the bench's private Redis);
 *   - CPU per replica (user + system time over the measured span, % of one core);
 *   - peak RSS: the largest replica's.
 * The rate is live polls done per second: with every replica keeping up it is operations / interval
 * on both sides, so the ratio says whether more replicas cost more than they share.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_OPERATIONS, BENCH_REPLICAS, BENCH_INTERVAL_S,
 * BENCH_SECONDS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { markRedisInitialised } from '@wolkvox-chat-stream/token-lock'
import { numberFromEnv, reportResult } from '../case-support.js'
import { startSimulatorProcess } from '../simulator-process.js'

const operations = numberFromEnv('BENCH_OPERATIONS', 200)
const replicas = numberFromEnv('BENCH_REPLICAS', 3)
const intervalS = numberFromEnv('BENCH_INTERVAL_S', 10)
const seconds = numberFromEnv('BENCH_SECONDS', 60)
const settleLagS = 2
const log = (line: string): void => void process.stderr.write(`  [poller-fleet] ${line}\n`)

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** User + system CPU seconds of a process so far (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The peak resident memory of a process so far, in bytes (Linux). */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024
}

/** Calls per command from INFO commandstats (`cmdstat_get:calls=12,...`). */
function commandStats(text: string): Map<string, number> {
  const stats = new Map<string, number>()
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1]!, Number(m[2]))
  return stats
}

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN
}

// A fresh range of server codes per run: the bench's Redis is shared by every case and repeat.
const firstServer = 100_001 + Math.floor(Math.random() * 800) * 1_000
const servers = Array.from({ length: operations }, (_, i) => String(firstServer + i))
const simulator = await startSimulatorProcess({
  chatsPerHour: 60,
  operations: { count: operations, firstServer },
})
const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'))
const redis = createRedis(process.env.BENCH_REDIS_URL ?? '', { name: 'bench-fleet' })
const children: ChildProcess[] = []
let stopping = false
try {
  await waitUntilReady(redis, { timeoutMs: 15_000 })
  // The bench's redis-server was created for this run and never lost a lease: marked, as
  // `stack:up` marks its own, so the measure is of polling, not of the first lease's quarantine.
  await markRedisInitialised(redis)
  const opsFile = join(dir, 'operations.json')
  writeFileSync(
    opsFile,
    JSON.stringify(servers.map((server) => ({ server, tokenEnv: `TOKEN_${server}` }))),
  )
  const tokens = Object.fromEntries(servers.map((s) => [`TOKEN_${s}`, `sim-token-${s}`]))
  const info = async (section: string, field: string): Promise<number> => {
    const text = await redis.info(section)
    return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN)
  }
  const memoryBefore = await info('memory', 'used_memory')

  const main = fileURLToPath(new URL('../../../services/poller/src/main.ts', import.meta.url))
  const delays: number[] = []
  const ports: number[] = []
  let measuring = false
  let failedPolls = 0
  for (let i = 0; i < replicas; i++) {
    const port = await freePort()
    ports.push(port)
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', main, 'run'], {
      env: {
        ...process.env,
        ...tokens,
        WOLKVOX_OPERATIONS_FILE: opsFile,
        WOLKVOX_BASE_URL: simulator.url,
        KAFKA_BROKERS: process.env.BENCH_KAFKA_BROKERS ?? '',
        REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
        HTTP_PORT: String(port),
        POLL_INTERVAL: `${intervalS}s`,
        POLL_START: '1m',
        POLL_SETTLE_LAG: `${settleLagS}s`,
        POLL_LOOKBACK: '5s',
        POLL_SWEEP_INTERVAL: '24h',
        POLL_LOCK_TTL: '5s',
        POLL_DAILY_QUOTA: '1000000',
        LOG_LEVEL: 'info',
      },
      // The poller logs to stderr: its `poll done` lines are read, the rest dropped.
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(child)
    // A replica that exits during the run says why (its last warnings and errors), instead of the
    // run failing later on its missing /proc entry.
    const recent: string[] = []
    child.once('exit', (code, signal) => {
      if (!stopping)
        log(`replica ${i + 1} exited (${code ?? signal}) during the run:\n${recent.join('\n')}`)
    })
    let rest = ''
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.includes('"level":"info"') && !line.includes('"level":"debug"')) {
          recent.push(line.slice(0, 600))
          if (recent.length > 15) recent.shift()
        }
        const fatal = line.includes('"level":"fatal"')
        if (!fatal && (!measuring || !line.includes('"kind":"poll"'))) continue
        const entry = JSON.parse(line) as { msg?: string; delayMs?: number }
        if (fatal) log(`replica ${i + 1}: ${entry.msg ?? line}`)
        if (entry.msg === 'poll failed') failedPolls++
        if (
          (entry.msg === 'poll done' || entry.msg === 'poll failed') &&
          entry.delayMs !== undefined
        )
          delays.push(entry.delayMs)
      }
    })
  }

  // Warm-up: every operation's schedulers created and its first poll made.
  const warmUpS = intervalS + 10
  log(
    `${operations} operations, ${replicas} replica(s), every ${intervalS} s: warming up ${warmUpS} s`,
  )
  await new Promise((resolve) => setTimeout(resolve, warmUpS * 1000))
  const gone = children.filter((c) => c.exitCode !== null || c.signalCode !== null)
  if (gone.length > 0) throw new Error(`${gone.length} replica(s) exited during the warm-up`)
  const cpuBefore = children.map((c) => cpuSeconds(c.pid!))
  const commandsBefore = await info('stats', 'total_commands_processed')
  const statsBefore = commandStats(await redis.info('commandstats'))
  const started = performance.now()
  measuring = true
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  measuring = false
  const durationMs = performance.now() - started
  const commands = (await info('stats', 'total_commands_processed')) - commandsBefore
  const statsAfter = commandStats(await redis.info('commandstats'))
  const perPoll = [...statsAfter]
    .map(
      ([name, calls]) =>
        [name, (calls - (statsBefore.get(name) ?? 0)) / Math.max(1, delays.length)] as const,
    )
    .filter(([, n]) => n >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n.toFixed(1)}`)
  log(`redis commands per poll: ${perPoll.join(', ')}`)
  const cpu = children.map((c, i) => (cpuSeconds(c.pid!) - cpuBefore[i]!) / (durationMs / 1000))
  const memoryAfter = await info('memory', 'used_memory')
  // The row's peak RSS is the largest replica's, not this driver's.
  const replicaPeakRss = Math.max(...children.map((c) => peakRssBytes(c.pid!)))

  // Watermarks, from one replica's list of servers: how far each operation trails what it may cover.
  const status = (await (await fetch(`http://127.0.0.1:${ports[0]}/status/servers`)).json()) as {
    servers: { server: string; watermark: string | null }[]
  }
  const newest = Date.now() - settleLagS * 1000
  const ours = status.servers.filter((o) => servers.includes(o.server))
  const lagsS = ours.map((o) =>
    o.watermark === null ? Infinity : (newest - Date.parse(o.watermark)) / 1000,
  )
  const figures = {
    'polls done': delays.length,
    'failed polls': failedPolls,
    'start delay p50 ms': Math.round(quantile(delays, 0.5)),
    'start delay p99 ms': Math.round(quantile(delays, 0.99)),
    'start delay max ms': Math.round(Math.max(...delays)),
    'watermark lag p50 s': Number(quantile(lagsS, 0.5).toFixed(1)),
    'watermark lag max s': Number(Math.max(...lagsS).toFixed(1)),
    'redis commands/s': Math.round(commands / (durationMs / 1000)),
    'redis bytes/operation': Math.round((memoryAfter - memoryBefore) / operations),
    'cpu % per replica': cpu.map((c) => Math.round(c * 100)).join('/'),
  }
  log(JSON.stringify(figures))
  reportResult({ items: delays.length, durationMs, figures, peakRssBytes: replicaPeakRss })
} finally {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
          child.once('exit', () => {
            clearTimeout(force)
            resolve()
          })
        }),
    ),
  )
  simulator.stop()
  await redis.quit().catch(() => undefined)
  rmSync(dir, { recursive: true, force: true })
}
