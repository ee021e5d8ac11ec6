import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../../services/tramite-classifier/src/cli.ts', import.meta.url))

/** `npm run classifier -- <args>` as its own process with exactly `env` (plus PATH and HOME). */
export interface ClassifierProcess {
  stdout(): string
  stderr(): string
  exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
}

export function startClassifierCli(args: string[], env: Record<string, string>): ClassifierProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', cli, ...args],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited: new Promise((resolve) => child.once('close', resolve)),
    kill: (signal) => child.kill(signal),
  }
}

/** Runs a classifier command to its end: exit code, output, and the JSON lines of stdout. */
export async function runClassifierCli(
  args: string[],
  env: Record<string, string>,
): Promise<{
  code: number | null
  stdout: string
  stderr: string
  lines: Record<string, unknown>[]
}> {
  const run = startClassifierCli(args, env)
  const code = await run.exited
  const stdout = run.stdout()
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { code, stdout, stderr: run.stderr(), lines }
}
