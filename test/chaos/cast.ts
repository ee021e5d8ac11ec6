/*
 * The chaos run's service processes: each a `node` process of its own that the run may SIGKILL,
 * SIGSTOP and SIGCONT, and start again with the same settings (same HTTP port). Every line a
 * process writes goes to its log file in the run's folder, for the post-mortem of a violation.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** What each kind of service runs. */
export const SCRIPTS = {
  poller: { script: 'services/poller/src/main.ts', args: ['run'] },
  sentiment: { script: 'services/sentiment-aggregator/src/main.ts', args: [] },
  classifier: { script: 'services/tramite-classifier/src/cli.ts', args: ['run'] },
  quality: { script: 'services/chat-quality/src/main.ts', args: [] },
} as const

export interface ServiceProcess {
  readonly name: string
  readonly httpPort: number
  /** Spawns the process (again, after it exited). */
  start(): void
  /** Sends `signal`; false when the process is not running. */
  signal(signal: NodeJS.Signals): boolean
  /** Whether a process is running (possibly stopped by SIGSTOP). */
  running(): boolean
  /** Resolves when the current process has exited (at once when none runs). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGCONT (a paused process cannot stop), SIGTERM, then SIGKILL after `graceMs`; its exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** How many times it was started. */
  starts(): number
  /** The last lines it wrote (both streams). */
  tail(lines?: number): string
}

/** Defines a service process; nothing runs until {@link ServiceProcess.start}. */
export function serviceProcess(input: {
  name: string
  kind: keyof typeof SCRIPTS
  env: Record<string, string>
  httpPort: number
  logDir: string
}): ServiceProcess {
  const { script, args } = SCRIPTS[input.kind]
  const log: WriteStream = createWriteStream(join(input.logDir, `${input.name}.log`), {
    flags: 'a',
  })
  const recent: string[] = []
  let child: ChildProcess | undefined
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({
    code: null,
    signal: null,
  })
  let started = 0
  const keep = (chunk: Buffer): void => {
    log.write(chunk)
    for (const line of chunk.toString().split('\n')) if (line) recent.push(line)
    if (recent.length > 400) recent.splice(0, recent.length - 400)
  }
  const alive = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null
  return {
    name: input.name,
    httpPort: input.httpPort,
    start() {
      if (alive()) return
      started++
      log.write(`--- start ${started} at ${new Date().toISOString()}\n`)
      const spawned = spawn(
        process.execPath,
        ['--import', 'tsx', '--conditions=source', join(root, script), ...args],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            KAFKAJS_NO_PARTITIONER_WARNING: '1',
            ...input.env,
            HTTP_PORT: String(input.httpPort),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      spawned.stdout.on('data', keep)
      spawned.stderr.on('data', keep)
      exit = new Promise((resolve) =>
        spawned.once('close', (code, signal) => {
          log.write(`--- exit ${code ?? signal} at ${new Date().toISOString()}\n`)
          resolve({ code, signal })
        }),
      )
      child = spawned
    },
    signal(signal) {
      if (!alive()) return false
      return child!.kill(signal)
    },
    running: alive,
    exited: () => exit,
    async stop(graceMs = 30_000) {
      if (!alive()) return exit
      child!.kill('SIGCONT')
      child!.kill('SIGTERM')
      const force = setTimeout(() => child?.kill('SIGKILL'), graceMs)
      const result = await exit
      clearTimeout(force)
      return result
    },
    starts: () => started,
    tail: (lines = 30) => recent.slice(-lines).join('\n'),
  }
}
