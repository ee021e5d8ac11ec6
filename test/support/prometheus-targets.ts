/*
 * Services run as their own processes for the observability test: a composition root (`main.ts`
 * or a CLI) started like `npm run <service>` does, reachable on its HTTP port.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './prometheus.js'
import { waitFor } from './wait-for.js'

/** A service process started by {@link startServiceProcess}. */
export interface ServiceProcess {
  readonly port: number
  /** The end of its stderr, for failure messages. */
  stderr(): string
  /** SIGTERM, then SIGKILL after 20 s; resolves when it has exited. */
  stop(): Promise<void>
}

/**
 * Starts `node --import tsx --conditions=source <script> ...args` with exactly `env` (plus PATH
 * and HOME) and waits until `GET /healthz` on `port` answers 200.
 *
 * @param script path from the repository root, e.g. `services/dashboard/src/main.ts`
 */
export async function startServiceProcess(input: {
  script: string
  args?: string[]
  env: Record<string, string>
  port: number
}): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', join(repoRoot, input.script), ...(input.args ?? [])],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...input.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)))
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
        return (await fetch(`http://127.0.0.1:${input.port}/healthz`)).ok
      },
      { what: `${input.script} to answer /healthz`, timeoutMs: 60_000, intervalMs: 200 },
    )
  } catch (error) {
    await stop()
    throw new Error(`${input.script} did not start: ${err}`, { cause: error })
  }
  return { port: input.port, stderr: () => err, stop }
}
