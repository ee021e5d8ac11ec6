/*
 * A real Prometheus for the observability tests (Debian's `prometheus` package), configured from
 * deploy/prometheus/prometheus.yml with its targets moved to local ports, and promtool.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import { waitFor } from './wait-for.js'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
export const prometheusConfigFile = join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml')

/** The parts of a Prometheus configuration file the tests read. */
export interface PrometheusConfig {
  global?: Record<string, unknown>
  rule_files?: string[]
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]
}

/** Without Docker: the same jobs, every service on 127.0.0.1. */
export const localPrometheusConfigFile = join(
  repoRoot,
  'deploy',
  'prometheus',
  'prometheus.local.yml',
)

/** deploy/prometheus/prometheus.yml (or `file`), parsed. */
export function readPrometheusConfig(file = prometheusConfigFile): PrometheusConfig {
  return parse(readFileSync(file, 'utf8')) as PrometheusConfig
}

/** Each job of deploy/prometheus/prometheus.yml and its one target (`host:port`). */
export function scrapeTargets(config = readPrometheusConfig()): Map<string, string> {
  return new Map(
    config.scrape_configs.map((job) => {
      const targets = job.static_configs.flatMap((c) => c.targets)
      if (targets.length !== 1) throw new Error(`job ${job.job_name} has ${targets.length} targets`)
      return [job.job_name, targets[0]!]
    }),
  )
}

/**
 * The path of a Prometheus tool, or an error that says how to install it: the tests that need
 * one fail loudly rather than skip.
 */
export function requireTool(name: 'prometheus' | 'promtool'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = found.stdout.trim()
  if (found.status !== 0 || path === '') {
    throw new Error(
      `${name} is not installed: sudo apt-get install prometheus (it brings prometheus and promtool; .ci/run installs it in CI)`,
    )
  }
  return path
}

/** Runs promtool; never rejects (the exit code is in the answer). */
export function promtool(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = requireTool('promtool')
  return new Promise((done) => {
    execFile(bin, args, { cwd: repoRoot }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      done({ code, stdout, stderr })
    })
  })
}

/** One sample of an instant query. */
export interface Sample {
  metric: Record<string, string>
  value: [number, string]
}

/** An alerting or recording rule as `GET /api/v1/rules` reports it. */
export interface RuleState {
  name: string
  type: 'alerting' | 'recording'
  health: string
  lastError?: string
  state?: string
  alerts?: { labels: Record<string, string>; state: string }[]
}

/** A Prometheus started by {@link startPrometheus}. */
export interface RunningPrometheus {
  readonly url: string
  /** The configuration it was started with. */
  readonly config: PrometheusConfig
  /** Runs an instant query; rejects with Prometheus's error when the query fails. */
  query(expr: string): Promise<Sample[]>
  /** The values of a label, optionally among the series of `match`. */
  labelValues(label: string, match?: string): Promise<string[]>
  /** Every rule group with its rules' health and alerts. */
  rules(): Promise<{ name: string; file: string; rules: RuleState[] }[]>
  /** Every scrape target with its job, health and last error. */
  targets(): Promise<{ job: string; health: string; lastError: string; scrapeUrl: string }[]>
  /** Stops the server and removes its data directory; never rejects. */
  stop(): Promise<void>
}

/**
 * Starts Prometheus on a free loopback port with a temporary data directory, using the jobs and
 * rule files of deploy/prometheus/prometheus.yml: each job scrapes `targets[job]` instead
 * (`prometheus` scrapes itself; a job without a target is left out, so a caller compares its
 * jobs with {@link scrapeTargets}), every `intervalSeconds`, rules evaluated as often.
 */
export async function startPrometheus(input: {
  targets: Readonly<Record<string, string>>
  intervalSeconds?: number
}): Promise<RunningPrometheus> {
  const bin = requireTool('prometheus')
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const interval = `${input.intervalSeconds ?? 1}s`
  const repoConfig = readPrometheusConfig()
  const configDir = dirname(prometheusConfigFile)
  const config: PrometheusConfig = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: (repoConfig.rule_files ?? []).map((file) => resolve(configDir, file)),
    scrape_configs: repoConfig.scrape_configs.flatMap(({ job_name }) => {
      const target = job_name === 'prometheus' ? `127.0.0.1:${port}` : input.targets[job_name]
      return target === undefined ? [] : [{ job_name, static_configs: [{ targets: [target] }] }]
    }),
  }
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'))
  const configFile = join(dir, 'prometheus.yml')
  // JSON is YAML.
  writeFileSync(configFile, JSON.stringify(config, null, 2))
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`)
    const body = (await response.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? 'failed'}`)
    return body.data
  }

  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`)
        return (await fetch(`${url}/-/ready`)).ok
      },
      { what: 'Prometheus to be ready', timeoutMs: 30_000, intervalMs: 200 },
    )
  } catch (error) {
    await stop()
    throw new Error(`Prometheus did not start: ${log}`, { cause: error })
  }

  return {
    url,
    config,
    query: async (expr) => {
      const data = await api<{ resultType: string; result: Sample[] | [number, string] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      )
      // A scalar or string result is one unlabelled sample.
      return data.resultType === 'vector'
        ? (data.result as Sample[])
        : [{ metric: {}, value: data.result as [number, string] }]
    },
    labelValues: (label, match) =>
      api<string[]>(
        `/api/v1/label/${encodeURIComponent(label)}/values${
          match === undefined ? '' : `?match[]=${encodeURIComponent(match)}`
        }`,
      ),
    rules: async () =>
      (await api<{ groups: { name: string; file: string; rules: RuleState[] }[] }>('/api/v1/rules'))
        .groups,
    targets: async () =>
      (
        await api<{
          activeTargets: {
            labels: Record<string, string>
            health: string
            lastError: string
            scrapeUrl: string
          }[]
        }>('/api/v1/targets?state=active')
      ).activeTargets.map((t) => ({
        job: t.labels.job ?? '',
        health: t.health,
        lastError: t.lastError,
        scrapeUrl: t.scrapeUrl,
      })),
    stop,
  }
}

/** One series of a `/metrics` text: its name and labels. */
export interface ExpositionSeries {
  name: string
  labels: Record<string, string>
  value: string
}

/** A `/metrics` text: each metric family's type, and every series. */
export interface Exposition {
  types: Map<string, string>
  series: ExpositionSeries[]
}

/** Parses the Prometheus text format (as prom-client writes it). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>()
  const series: ExpositionSeries[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      if (name !== undefined && type !== undefined) types.set(name, type)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (match === null) throw new Error(`unparsable exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1')
    }
    series.push({ name: match[1]!, labels, value: match[3]! })
  }
  return { types, series }
}

/** The metric family of a series name (`x_bucket`, `x_sum`, `x_count` belong to histogram `x`). */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  if (types.has(name)) return name
  const base = name.replace(/_(bucket|sum|count)$/, '')
  return types.has(base) ? base : name
}
