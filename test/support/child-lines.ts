import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A TypeScript script of test/support run as a separate Node process, with its JSON lines. */
export interface ScriptChild {
  process: ChildProcess
  /** Resolves with the first JSON line whose `event` is `event`. */
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

export function runScript(name: string, args: string[]): ScriptChild {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', script, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const lines: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      return
    }
    for (const wake of waiters.splice(0)) wake()
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return {
    process: child,
    exited,
    next: async (event, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = lines.find((l) => l.event === event)
        if (found) return found
        if (Date.now() > deadline)
          throw new Error(`${name}: no "${event}" line within ${timeoutMs} ms`)
        await Promise.race([
          new Promise<void>((resolve) => waiters.push(resolve)),
          new Promise((resolve) => setTimeout(resolve, 200)),
          exited,
        ])
        if (child.exitCode !== null && !lines.some((l) => l.event === event)) {
          throw new Error(`${name} exited with ${child.exitCode} before printing "${event}"`)
        }
      }
    },
  }
}
