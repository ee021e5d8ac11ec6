/*
 * `npm run test:sabotage [-- [--control] [--jobs N] [name ...]]`: the sabotage checks
 * (sabotages.ts). For each sabotage, its one guarding test runs with the product broken on purpose
 * (vitest.sabotage.config.ts); the check passes only when the patch was applied and the test failed
 * at the assertion that guards the promise (the sabotage's `failure` pattern), not for some other
 * reason. One broker and one redis-server serve every run.
 *   --control  first run every guarding test unsabotaged (one more vitest run): a check whose test
 *              fails on the product as it is reports FAILS UNSABOTAGED
 *   --jobs N   checks run at once (default 2; each is one vitest process)
 * Prints a table; exits 1 when any sabotage went unnoticed or its check could not run, 2 on bad
 * arguments.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { kafkaVersionFromEnv, startPrivateStack } from '@wolkvox-chat-stream/dev-stack'
import { sabotages, type Sabotage } from './sabotages.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const vitest = join(root, 'node_modules/vitest/vitest.mjs')

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run test:sabotage -- [--control] [--jobs N] [name ...]\n` +
      `sabotages: ${sabotages.map((s) => s.name).join(', ')}\n`,
  )
  process.exit(2)
}

let args: { values: { control?: boolean; jobs?: string }; positionals: string[] }
try {
  args = parseArgs({
    options: { control: { type: 'boolean' }, jobs: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
} catch (error) {
  usage(error instanceof Error ? error.message : String(error))
}
const jobs = Number(args.values.jobs ?? '2')
if (!Number.isInteger(jobs) || jobs < 1 || jobs > 8)
  usage(`--jobs must be 1 to 8, not ${args.values.jobs}`)
const wanted = args.positionals
const unknown = wanted.filter((n) => !sabotages.some((s) => s.name === n))
if (unknown.length > 0) usage(`unknown sabotage(s): ${unknown.join(', ')}`)
const chosen = wanted.length === 0 ? sabotages : sabotages.filter((s) => wanted.includes(s.name))

interface Outcome {
  sabotage: Sabotage
  /** 'caught' is the only passing outcome. */
  outcome: 'caught' | 'SURVIVED' | 'NOT APPLIED' | 'WRONG FAILURE' | 'NO TEST' | 'FAILS UNSABOTAGED'
  detail: string
  seconds: number
  log: string
}

/** The JSON reporter's view of one test. */
interface AssertionResult {
  title: string
  status: string
  failureMessages?: string[]
}
interface JsonReport {
  testResults?: { name: string; message?: string; assertionResults?: AssertionResult[] }[]
}

interface Run {
  report: JsonReport | null
  /** The marker's lines: one per application of the patch (none without a sabotage). */
  marks: { status: string; via: string }[]
  seconds: number
  log: string
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const work = mkdtempSync(join(tmpdir(), 'wcs-sabotage-'))

/** The project of vitest.sabotage.config.ts that runs a sabotage's test. */
const projectOf = (sabotage: Sabotage): string =>
  sabotage.project === 'fault' ? 'sabotage-fault' : 'sabotage'

/** One vitest run of a sabotage project: `files`, only the tests named, `sabotage` on or not. */
async function runVitest(
  tag: string,
  project: string,
  files: string[],
  tests: string[],
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  const marker = join(work, `${tag}.marker.jsonl`)
  const reportFile = join(work, `${tag}.report.json`)
  const log = join(work, `${tag}.log`)
  writeFileSync(marker, '')
  const started = Date.now()
  const args = [
    vitest,
    'run',
    '--config',
    'vitest.sabotage.config.ts',
    '--project',
    project,
    ...files,
    '--testNamePattern',
    tests.map(escapeRegExp).join('|'),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
  ]
  const output: Buffer[] = []
  const child = spawn(process.execPath, args, {
    cwd: root,
    // The plain reporter (CI): its output goes to the log, not to a terminal.
    env: { ...process.env, ...env, WCS_SABOTAGE_MARKER: marker, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk))
  await new Promise<void>((resolve) => child.once('close', () => resolve()))
  writeFileSync(log, Buffer.concat(output))
  const report = readReport(reportFile)
  const marks = readFileSync(marker, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { status: string; via: string })
  return { report, marks, seconds: (Date.now() - started) / 1000, log }
}

/** The JSON report of a run, or null when vitest wrote none (it crashed, or was not started). */
function readReport(file: string): JsonReport | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonReport
  } catch {
    return null
  }
}

/** The result of the test titled `title` in `file` (relative to the root), if it ran. */
function testIn(
  report: JsonReport | null,
  file: string,
  title: string,
): AssertionResult | undefined {
  return report?.testResults
    ?.filter((f) => f.name === join(root, file))
    .flatMap((f) => f.assertionResults ?? [])
    .find((t) => t.title === title)
}

/** Runs the guarding test of `sabotage` with the sabotage on, and judges the result. */
async function check(sabotage: Sabotage, services: NodeJS.ProcessEnv): Promise<Outcome> {
  const run = await runVitest(
    sabotage.name,
    projectOf(sabotage),
    [sabotage.testFile],
    [sabotage.test],
    {
      ...services,
      WCS_SABOTAGE: sabotage.name,
    },
  )
  const result = (outcome: Outcome['outcome'], detail: string): Outcome => ({
    sabotage,
    outcome,
    detail,
    seconds: run.seconds,
    log: run.log,
  })
  // The patch must have been applied, and its snippet found: else a failure proves nothing.
  if (run.marks.some((m) => m.status === 'missing'))
    return result('NOT APPLIED', `snippet not found in ${sabotage.file}`)
  if (!run.marks.some((m) => m.status === 'applied'))
    return result('NOT APPLIED', `${sabotage.file} was never loaded`)
  if (sabotage.inChild && !run.marks.some((m) => m.status === 'applied' && m.via === 'node'))
    return result('NOT APPLIED', `no process the test started loaded ${sabotage.file}`)
  if (run.report === null) return result('NO TEST', 'vitest wrote no report')
  const guard = testIn(run.report, sabotage.testFile, sabotage.test)
  if (!guard) {
    const fileError = run.report.testResults?.find((f) => f.message)?.message
    return result('NO TEST', fileError ? firstLine(fileError) : 'the test was not found')
  }
  if (guard.status === 'passed') return result('SURVIVED', 'the test passed with the sabotage on')
  if (guard.status !== 'failed') return result('NO TEST', `the test was ${guard.status}`)
  const failure = (guard.failureMessages ?? []).join('\n')
  if (!sabotage.failure.test(failure)) return result('WRONG FAILURE', firstLine(failure))
  const via = [...new Set(run.marks.map((m) => m.via))].sort().join('+')
  return result('caught', `${firstLine(failure)} (patched via ${via})`)
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? ''
  return line.length > 100 ? `${line.slice(0, 97)}...` : line
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n')
}

const startedAll = Date.now()
// The shared broker and redis-server serve the integration project's checks; a fault check (its
// test starts the processes it kills) needs neither.
const needsStack = chosen.some((s) => projectOf(s) === 'sabotage')
process.stderr.write(
  `sabotage: ${chosen.length} check(s), ${jobs} at a time` +
    (needsStack ? '; starting a private broker and redis-server\n' : '\n'),
)
const stack = needsStack
  ? await startPrivateStack({
      kafka: {
        version: kafkaVersionFromEnv(),
        onProgress: (line) => process.stderr.write(`[dev-stack] ${line}\n`),
      },
    })
  : null
if (stack !== null && (!('redisUrl' in stack) || stack.redisUrl === ''))
  throw new Error('no redis-server started')
const services: NodeJS.ProcessEnv =
  stack === null
    ? {}
    : {
        WCS_SABOTAGE_KAFKA: stack.kafkaBrokers.split(',')[0]!,
        WCS_SABOTAGE_REDIS: stack.redisUrl,
        WCS_SABOTAGE_KAFKA_VERSION: stack.kafka.version,
      }
/**
 * Optionally the control, then each sabotage, `jobs` at a time. The control runs every guarding
 * test unsabotaged, in one run: a test that fails on the product as it is proves nothing.
 */
async function checkAll(
  services: NodeJS.ProcessEnv,
): Promise<{ outcomes: Outcome[]; controlSeconds: number | null }> {
  // One control run per project.
  const controls = new Map<string, Run>()
  if (args.values.control) {
    process.stderr.write(`sabotage: control run of the guarding tests, nothing patched\n`)
    for (const project of [...new Set(chosen.map(projectOf))]) {
      const mine = chosen.filter((s) => projectOf(s) === project)
      controls.set(
        project,
        await runVitest(
          `control-${project}`,
          project,
          [...new Set(mine.map((s) => s.testFile))],
          [...new Set(mine.map((s) => s.test))],
          services,
        ),
      )
    }
  }
  const outcomes: Outcome[] = []
  const queue = [...chosen]
  const worker = async (): Promise<void> => {
    for (let sabotage = queue.shift(); sabotage; sabotage = queue.shift()) {
      const control = controls.get(projectOf(sabotage))
      const unsabotaged = control && testIn(control.report, sabotage.testFile, sabotage.test)
      if (control && unsabotaged?.status !== 'passed') {
        outcomes.push({
          sabotage,
          outcome: 'FAILS UNSABOTAGED',
          detail: `without the sabotage the test ${unsabotaged?.status ?? 'did not run'}`,
          seconds: 0,
          log: control.log,
        })
        continue
      }
      process.stderr.write(`sabotage: ${sabotage.name} -> ${sabotage.testFile}\n`)
      const outcome = await check(sabotage, services)
      process.stderr.write(`sabotage: ${sabotage.name}: ${outcome.outcome} (${outcome.detail})\n`)
      outcomes.push(outcome)
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker))
  // In the order of sabotages.ts, whatever order they finished in.
  outcomes.sort((x, y) => chosen.indexOf(x.sabotage) - chosen.indexOf(y.sabotage))
  const controlSeconds =
    controls.size === 0 ? null : [...controls.values()].reduce((sum, run) => sum + run.seconds, 0)
  return { outcomes, controlSeconds }
}

let results: { outcomes: Outcome[]; controlSeconds: number | null }
try {
  results = await checkAll(services)
} finally {
  await stack?.stop()
}
const { outcomes, controlSeconds } = results

const rows = [
  ['sabotage', 'promise', 'test', 'outcome', 'seconds'],
  ...outcomes.map((o) => [
    o.sabotage.name,
    o.sabotage.promise,
    `${o.sabotage.testFile.replace(/^test\/(integration|fault)\//, '')}: ${o.sabotage.test}`,
    o.outcome,
    o.seconds.toFixed(1),
  ]),
]
process.stdout.write(`\n${table(rows)}\n\n`)
const bad = outcomes.filter((o) => o.outcome !== 'caught')
for (const o of bad)
  process.stdout.write(`${o.sabotage.name}: ${o.outcome}: ${o.detail}\n  log: ${o.log}\n`)
process.stdout.write(
  `${outcomes.length - bad.length} of ${outcomes.length} sabotages caught` +
    (controlSeconds === null ? '' : ` (control run ${controlSeconds.toFixed(1)} s)`) +
    ` in ${((Date.now() - startedAll) / 1000).toFixed(0)} s\n`,
)
// Logs of the checks that did not pass are kept for a look; the rest is removed.
if (bad.length === 0) rmSync(work, { recursive: true, force: true })
process.exit(bad.length === 0 ? 0 : 1)
