import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const startScript = fileURLToPath(new URL('../../packages/dev-stack/src/start.ts', import.meta.url))

/** What `npm start` writes to `<run dir>/start.json`. */
export interface StartRecord {
  pid: number
  kafkaBrokers: string
  redisUrl: string
  kafka: { pid: number } | null
  redis: { pid: number } | null
  parts: { name: string; pid: number; url: string; log: string }[]
  firstAggregateMs: number | null
}

/** `npm start` (the orchestrator itself, without npm in between) as a child of the test. */
export interface StartProcess {
  process: ChildProcess
  startedAtMs: number
  /** Everything printed so far, stdout and stderr. */
  output(): string
  /** Resolves with the first output line matching `pattern`. */
  line(pattern: RegExp, timeoutMs: number): Promise<string>
  record(): StartRecord
  url(part: string): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts the orchestrator with exactly `env` (plus PATH, HOME and the dev-stack cache variables),
 * on free ports, with its logs in `runDir`.
 */
export function startPipeline(runDir: string, env: Record<string, string>): StartProcess {
  const inherited = ['PATH', 'HOME', 'XDG_CACHE_HOME', 'WOLKVOX_DEV_STACK_HOME', 'KAFKA_VERSION']
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', startScript], {
    cwd: repoRoot,
    env: {
      ...Object.fromEntries(
        inherited.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
      ),
      DASHBOARD_PORT: '0',
      POLLER_PORT: '0',
      SENTIMENT_PORT: '0',
      CLASSIFIER_PORT: '0',
      QUALITY_PORT: '0',
      SIMULATOR_PORT: '0',
      KAFKA_PORT: '0',
      REDIS_PORT: '0',
      START_RUN_DIR: runDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const startedAtMs = Date.now()
  const lines: string[] = []
  const waiters: (() => void)[] = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line)
      for (const wake of waiters.splice(0)) wake()
    })
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const file = join(runDir, 'start.json')
  const record = (): StartRecord => {
    if (!existsSync(file)) throw new Error(`npm start wrote no ${file} yet`)
    return JSON.parse(readFileSync(file, 'utf8')) as StartRecord
  }
  return {
    process: child,
    startedAtMs,
    output: () => lines.join('\n'),
    exited,
    record,
    url: (part) => {
      const found = record().parts.find((p) => p.name === part)
      if (!found) throw new Error(`npm start did not start the ${part}`)
      return found.url
    },
    line: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = lines.find((l) => pattern.test(l))
        if (found !== undefined) return found
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `npm start exited before printing ${String(pattern)}:\n${lines.join('\n')}`,
          )
        }
        if (Date.now() > deadline) {
          throw new Error(
            `npm start printed no ${String(pattern)} within ${timeoutMs} ms:\n${lines.join('\n')}`,
          )
        }
        await Promise.race([
          new Promise<void>((resolve) => waiters.push(resolve)),
          new Promise((resolve) => setTimeout(resolve, 500)),
        ])
      }
    },
  }
}

/** Live processes among `pids` and in their process groups (Linux `ps`; zombies excluded). */
export function leftovers(pids: number[]): string[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' })
  const wanted = new Set(pids)
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      const [pid, pgid, stat] = line.split(/\s+/u)
      // A zombie (`Z`) has exited and holds nothing but its table entry; reaping it is the job of
      // its parent or of pid 1, which in some containers never reaps.
      if (stat === undefined || stat.startsWith('Z')) return false
      return wanted.has(Number(pid)) || wanted.has(Number(pgid))
    })
}
