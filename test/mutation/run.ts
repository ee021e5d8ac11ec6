/*
 * `npm run test:mutation [-- name…]`: StrykerJS on each module of modules.mjs (or those named),
 * one run after the other, then a score table; exits 1 when a run fails or a module scores under
 * the threshold. Reports: test-artifacts/mutation/<module>/mutation.{html,json}; the table also
 * goes to test-artifacts/mutation/scores.json (git-ignored; summary.md is the committed record).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { modules, threshold } from './modules.mjs'

const root = fileURLToPath(new URL('../../', import.meta.url))
const strykerBin = fileURLToPath(
  new URL('../../node_modules/@stryker-mutator/core/bin/stryker.js', import.meta.url),
)

interface Row {
  module: string
  score: number | null
  killed: number
  timeout: number
  survived: number
  noCoverage: number
  errors: number
  seconds: number
  ran: boolean
}

/** The part of Stryker's JSON report (mutation-testing-report-schema) read here. */
interface Report {
  files: Record<string, { mutants: { status: string }[] }>
}

/** Stryker's mutation score: detected (killed, timed out) over valid (detected and undetected). */
function scoreOf(report: Report): Omit<Row, 'module' | 'seconds' | 'ran'> {
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, errors: 0 }
  for (const file of Object.values(report.files)) {
    for (const { status } of file.mutants) {
      if (status in count && status !== 'errors') count[status as keyof typeof count]++
      else if (status === 'CompileError' || status === 'RuntimeError') count.errors++
    }
  }
  const detected = count.Killed + count.Timeout
  const valid = detected + count.Survived + count.NoCoverage
  return {
    score: valid === 0 ? null : (100 * detected) / valid,
    killed: count.Killed,
    timeout: count.Timeout,
    survived: count.Survived,
    noCoverage: count.NoCoverage,
    errors: count.errors,
  }
}

function main(): number {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter((name) => !modules.some((m) => m.name === name))
  if (unknown.length > 0) {
    console.error(
      `unknown module(s): ${unknown.join(', ')}; known: ${modules.map((m) => m.name).join(', ')}`,
    )
    return 2
  }
  const selected = wanted.length === 0 ? modules : modules.filter((m) => wanted.includes(m.name))
  const rows: Row[] = []
  for (const module of selected) {
    console.log(`\n=== mutation: ${module.name} ===`)
    const started = Date.now()
    const run = spawnSync(process.execPath, [strykerBin, 'run', 'stryker.config.mjs'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, MUTATION_MODULE: module.name },
    })
    const seconds = Math.round((Date.now() - started) / 1000)
    let counts: Omit<Row, 'module' | 'seconds' | 'ran'> = {
      score: null,
      killed: 0,
      timeout: 0,
      survived: 0,
      noCoverage: 0,
      errors: 0,
    }
    try {
      const file = `${root}test-artifacts/mutation/${module.name}/mutation.json`
      counts = scoreOf(JSON.parse(readFileSync(file, 'utf8')) as Report)
    } catch {
      // No report: the run failed before the end; reported below as not run.
    }
    rows.push({ module: module.name, ...counts, seconds, ran: run.status === 0 })
  }

  const lines = [
    '| module | score | killed | timeout | survived | no coverage | time |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.module} | ${r.ran && r.score !== null ? r.score.toFixed(2) + ' %' : 'run failed'} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s |`,
    ),
  ]
  console.log(`\nMutation scores (threshold ${threshold} %):\n${lines.join('\n')}`)
  mkdirSync(`${root}test-artifacts/mutation`, { recursive: true })
  writeFileSync(
    `${root}test-artifacts/mutation/scores.json`,
    JSON.stringify({ threshold, at: new Date().toISOString(), rows }, null, 2) + '\n',
  )
  const failing = rows.filter((r) => !r.ran || r.score === null || r.score < threshold)
  if (failing.length > 0) {
    console.error(`Under ${threshold} % or not run: ${failing.map((r) => r.module).join(', ')}`)
    return 1
  }
  return 0
}

process.exitCode = main()
