/*
 * `npm run bench [-- --repeat N] [-- --only NAME[,NAME…]]`: starts a private broker and redis-server,
 * runs every benchmark's subject and baseline alternately as child processes, and prints a table
 * of medians and ratios; the JSON goes to bench-results/latest.json. With BENCH_CPU_PROF=<dir>, every
 * case process writes a V8 CPU profile there (`--cpu-prof`; open it in Chrome's DevTools).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPrivateStack, startSchemaRegistry } from '@wolkvox-chat-stream/dev-stack'
import { benchmarks, type BenchCase } from './benchmarks.js'
import { pooledQuantile, type CaseResult } from './case-support.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const { values } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, only: { type: 'string' } },
})
const repeat = Number(values.repeat)
// `--only a,b`: the rows whose names contain any of the comma-separated parts.
const wanted = values.only?.split(',').filter((part) => part !== '')
const selected = benchmarks.filter(
  (b) => wanted === undefined || wanted.some((part) => b.name.includes(part)),
)
if (selected.length === 0) throw new Error(`No benchmark matches "${values.only}"`)

const log = (line: string): void => void process.stderr.write(`${line}\n`)

const profileDir = process.env.BENCH_CPU_PROF
const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []

async function runCase(benchCase: BenchCase, env: Record<string, string>): Promise<CaseResult> {
  const script = join(here, 'cases', benchCase.script)
  return new Promise((resolve, reject) => {
    const args = [...profiling, '--import', 'tsx', '--conditions=source', script]
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env, ...benchCase.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
      if (code !== 0 || line === undefined)
        return reject(new Error(`${benchCase.script} failed (exit ${code})`))
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as CaseResult)
    })
  })
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const rate = (r: CaseResult): number => r.items / (r.durationMs / 1000)

/** Every message of every window of every repeat together; the worst window and message. */
function latencyOf(results: CaseResult[]): Row['latencyMs'] {
  const withLatency = results.flatMap((r) => (r.latencyMs ? [r.latencyMs] : []))
  if (withLatency.length === 0) return null
  const points = withLatency.flatMap((l) => l.points)
  return {
    p50: Math.round(pooledQuantile(points, 0.5)),
    p99: Math.round(pooledQuantile(points, 0.99)),
    worstP99: Math.round(Math.max(...withLatency.map((l) => l.worstP99))),
    max: Math.round(Math.max(...withLatency.map((l) => l.max))),
    windows: withLatency.reduce((n, l) => n + l.windows, 0),
    messagesPerWindow: withLatency[0]!.messagesPerWindow,
  }
}

log('Starting a private Kafka broker and redis-server for the benchmarks…')
const stack = await startPrivateStack()
// A schema registry only for the rows that use one (a JVM of ~250 MB).
const registry = selected.some((b) => b.subject.env?.BENCH_REGISTRY === '1')
  ? await startSchemaRegistry().catch(async (error: unknown) => {
      await stack.stop()
      throw error
    })
  : undefined
const env = {
  BENCH_KAFKA_BROKERS: stack.kafkaBrokers,
  BENCH_REDIS_URL: stack.redisUrl,
  BENCH_KAFKA_VERSION: stack.kafka.version,
  ...(registry === undefined ? {} : { BENCH_SCHEMA_REGISTRY_URL: registry.ccompatUrl }),
}
interface Row {
  name: string
  unit: string
  repeats: number
  subjectPerSecond: number
  subjectMinPerSecond: number
  subjectMaxPerSecond: number
  baselinePerSecond: number | null
  ratio: number | null
  subjectPeakRssMiB: number
  baselinePeakRssMiB: number | null
  /**
   * Latency rows: p50 and p99 over every message of every window of every repeat, the worst
   * window's p99 and the slowest message.
   */
  latencyMs: Omit<NonNullable<CaseResult['latencyMs']>, 'points'> | null
  /** The last run's figures of each side, for rows that state some. */
  figures: { subject?: CaseResult['figures']; baseline?: CaseResult['figures'] } | null
  target: string
}
const rows: Row[] = []
/** Rows whose case failed: the others still run, and the table is printed before the exit. */
const failed: { name: string; error: string }[] = []
try {
  for (const bench of selected) {
    try {
      if (bench.backlog !== undefined) {
        const filled = await runCase(
          { script: 'fill-backlog.ts', env: { BENCH_EVENTS: String(bench.backlog) } },
          env,
        )
        log(
          `  ${bench.name}: backlog of ${bench.backlog} events ready (${Math.round(filled.durationMs)} ms)`,
        )
      }
      const subject: CaseResult[] = []
      const baseline: CaseResult[] = []
      for (let i = 0; i < repeat; i++) {
        // Alternate the order so neither side always runs on a warmer broker.
        const order =
          i % 2 === 0 ? (['subject', 'baseline'] as const) : (['baseline', 'subject'] as const)
        for (const side of order) {
          const benchCase = side === 'subject' ? bench.subject : bench.baseline
          if (!benchCase) continue
          const result = await runCase(benchCase, env)
          ;(side === 'subject' ? subject : baseline).push(result)
          const latency = result.latencyMs
            ? `, p50 ${Math.round(result.latencyMs.p50)} ms, p99 ${Math.round(result.latencyMs.p99)} ms`
            : ''
          log(
            `  ${bench.name} ${side} run ${i + 1}/${repeat}: ${Math.round(rate(result)).toLocaleString('en-US')} ${bench.unit}/s${latency}, peak RSS ${Math.round(result.peakRssBytes / 2 ** 20)} MiB`,
          )
        }
      }
      const subjectRate = median(subject.map(rate))
      const baselineRate = baseline.length > 0 ? median(baseline.map(rate)) : null
      rows.push({
        name: bench.name,
        unit: bench.unit,
        repeats: repeat,
        subjectPerSecond: Math.round(subjectRate),
        subjectMinPerSecond: Math.round(Math.min(...subject.map(rate))),
        subjectMaxPerSecond: Math.round(Math.max(...subject.map(rate))),
        baselinePerSecond: baselineRate === null ? null : Math.round(baselineRate),
        ratio: baselineRate === null ? null : Number((subjectRate / baselineRate).toFixed(3)),
        subjectPeakRssMiB: Math.round(Math.max(...subject.map((r) => r.peakRssBytes)) / 2 ** 20),
        baselinePeakRssMiB:
          baseline.length > 0
            ? Math.round(Math.max(...baseline.map((r) => r.peakRssBytes)) / 2 ** 20)
            : null,
        latencyMs: latencyOf(subject),
        figures:
          subject.at(-1)?.figures === undefined
            ? null
            : { subject: subject.at(-1)?.figures, baseline: baseline.at(-1)?.figures },
        target: bench.target,
      })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      log(`  ${bench.name} FAILED: ${message}`)
      failed.push({ name: bench.name, error: message })
    }
  }
} finally {
  await registry?.stop()
  await stack.stop()
}

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: stack.kafka.version,
}
const fmt = (n: number | null): string => (n === null ? '—' : n.toLocaleString('en-US'))
const latencyText = (r: Row): string =>
  r.latencyMs
    ? `; ${fmt(r.latencyMs.windows)} windows of ${fmt(r.latencyMs.messagesPerWindow)} messages, every message: p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms (worst window's p99 ${fmt(r.latencyMs.worstP99)} ms, slowest ${fmt(r.latencyMs.max)} ms)`
    : ''
const figuresOf = (f: CaseResult['figures']): string =>
  Object.entries(f ?? {})
    .map(([name, value]) => `${name} ${typeof value === 'number' ? fmt(value) : value}`)
    .join(', ')
const figuresText = (r: Row): string =>
  r.figures
    ? `; ${figuresOf(r.figures.subject)}${r.figures.baseline ? ` (baseline: ${figuresOf(r.figures.baseline)})` : ''}`
    : ''
const table = [
  '| benchmark | median /s (min–max) | baseline /s | ratio | peak RSS MiB (subject / baseline) | target |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.subjectPerSecond)} ${r.unit} (${fmt(r.subjectMinPerSecond)}–${fmt(r.subjectMaxPerSecond)})${latencyText(r)}${figuresText(r)} | ${fmt(r.baselinePerSecond)} | ${r.ratio === null ? (r.latencyMs ? 'absolute' : 'baseline') : `${r.ratio}x`} | ${fmt(r.subjectPeakRssMiB)} / ${fmt(r.baselinePeakRssMiB)} | ${r.target} |`,
  ),
].join('\n')
process.stdout.write(
  `\n${table}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Kafka ${machine.kafka}; ${repeat} repeats, medians\n`,
)
const outDir = join(root, 'bench-results')
mkdirSync(outDir, { recursive: true })
writeFileSync(
  join(outDir, 'latest.json'),
  `${JSON.stringify({ at: new Date().toISOString(), machine, rows, failed }, null, 2)}\n`,
)
log(`Wrote ${join('bench-results', 'latest.json')}`)
if (failed.length > 0) {
  log(
    `\n${failed.length} row(s) failed:\n${failed.map((f) => `  ${f.name}: ${f.error}`).join('\n')}`,
  )
  process.exitCode = 1
}
