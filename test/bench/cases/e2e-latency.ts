/*
 * End to end (QUALITY.md): one simulator window of about BENCH_MESSAGES messages, from the poll's
 * start (the request to the simulator) to the aggregates visible over the sentiment aggregator's
 * HTTP API. The aggregator runs in its own process; this process runs the poller and asks
 * `GET /operations/:server/agents` every 10 ms. A message's latency is the first sample that
 * counts it (each sample's new messages take its time); p50 and p99 are over every message of
 * every window together, with the worst window's p99 and the slowest message beside them. Each of
 * BENCH_WINDOWS windows uses a fresh operation code, so each starts from zero.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_MESSAGES (5000), BENCH_WINDOWS (10).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createPollerRuntime, readPollerConfig } from '@wolkvox-chat-stream/poller'
import { numberFromEnv, pooledQuantile, reportResult } from '../case-support.js'
import { HOUR_MS, rangeHolding, startSimulatorProcess } from '../simulator-process.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const target = numberFromEnv('BENCH_MESSAGES', 5_000)
const windows = numberFromEnv('BENCH_WINDOWS', 10)
const token = 'bench-token'
const log = (line: string): void => void process.stderr.write(`  [e2e-latency] ${line}\n`)

const simulator = await startSimulatorProcess({ token, chatsPerHour: 200 })
const httpPort = 20_000 + Math.floor(Math.random() * 20_000)
const aggregator = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--conditions=source',
    fileURLToPath(new URL('../sentiment-child.ts', import.meta.url)),
  ],
  {
    env: {
      ...process.env,
      BENCH_NAME: `bench-e2e-${randomBytes(4).toString('hex')}`,
      BENCH_HTTP_PORT: String(httpPort),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
)
const stopAll = (): void => {
  aggregator.kill('SIGTERM')
  simulator.stop()
}

const visibleMessages = async (server: string): Promise<number> => {
  const response = await fetch(`http://127.0.0.1:${httpPort}/operations/${server}/agents`).catch(
    () => undefined,
  )
  if (response?.ok !== true) return 0
  const body = (await response.json()) as { agents: { totals: { messages: number } }[] }
  return body.agents.reduce((n, a) => n + a.totals.messages, 0)
}

/** Polls `range` for a fresh operation; returns when its messages became visible. */
async function oneWindow(
  range: { fromMs: number; toMs: number },
  expected: number,
  timeoutMs: number,
): Promise<{ points: [number, number][]; p99: number; all: number }> {
  const server = String(100_000 + Math.floor(Math.random() * 800_000))
  const config = readPollerConfig({
    WOLKVOX_SERVER: server,
    WOLKVOX_TOKEN: token,
    WOLKVOX_BASE_URL: simulator.url,
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    POLL_ROW_CAP: '1000000',
    POLL_MAX_WINDOW: '30d',
    POLL_LOCK_TTL: '5s',
  })
  const runtime = await createPollerRuntime(
    config,
    createLogger({ name: 'bench', level: 'error' }),
    createMetricsRegistry({ collectDefaultMetrics: false }),
  )
  // The first lease on a token after an empty Redis waits one lock TTL: take it before the clock.
  await runtime.poll(config.operations[0]!, {
    fromMs: range.fromMs - 40 * 86_400_000,
    toMs: range.fromMs - 40 * 86_400_000,
  })
  const started = performance.now()
  const polled = runtime.poll(config.operations[0]!, range)
  const points: [number, number][] = []
  let counted = 0
  for (;;) {
    const seen = Math.min(expected, await visibleMessages(server))
    const at = performance.now() - started
    if (seen > counted) points.push([Math.round(at), seen - counted])
    counted = Math.max(counted, seen)
    if (seen >= expected) {
      await polled
      await runtime.close()
      return { points, p99: pooledQuantile(points, 0.99), all: at }
    }
    if (at > timeoutMs) {
      await runtime.close()
      throw new Error(`only ${seen} of ${expected} messages visible after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

try {
  const endMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS
  const range = await rangeHolding(simulator, target, endMs)
  const expected = (await simulator.truth(range.fromMs, range.toMs)).messageCount
  // Warm-up (not measured): the aggregator replays the topic's backlog first; a window becomes
  // visible on every partition only once that is done.
  const warm = await oneWindow(range, expected, 600_000)
  log(`warm-up window of ${expected} messages visible after ${Math.round(warm.all)} ms`)
  const results: { points: [number, number][]; p99: number; all: number }[] = []
  for (let i = 0; i < windows; i++) results.push(await oneWindow(range, expected, 60_000))
  const points = results.flatMap((r) => r.points)
  const p50 = pooledQuantile(points, 0.5)
  const p99 = pooledQuantile(points, 0.99)
  const worstP99 = Math.max(...results.map((r) => r.p99))
  const max = Math.max(...results.map((r) => r.all))
  log(
    `${windows} windows of ${expected} messages, every message: p50 ${Math.round(p50)} ms, p99 ${Math.round(p99)} ms; worst window's p99 ${Math.round(worstP99)} ms, slowest message ${Math.round(max)} ms`,
  )
  reportResult({
    items: expected * windows,
    durationMs: results.reduce((t, r) => t + r.all, 0),
    latencyMs: { p50, p99, worstP99, max, windows, messagesPerWindow: expected, points },
  })
} finally {
  stopAll()
}
