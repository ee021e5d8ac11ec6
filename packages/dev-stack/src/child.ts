import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { isAlive } from './process-registry.js'

/**
 * Starts a long-running program with its output appended to `logFile`. `detached`: it outlives
 * this process. `ownGroup`: it runs in a process group of its own, so a terminal's Ctrl-C reaches
 * only its owner (which stops it in order), yet it is still killed when this process exits.
 */
export function spawnLogged(
  command: string,
  args: string[],
  options: {
    logFile: string
    detached: boolean
    ownGroup?: boolean
    cwd?: string
    env?: NodeJS.ProcessEnv
  },
): ChildProcess {
  const fd = openSync(options.logFile, 'a')
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: options.detached || options.ownGroup === true,
      stdio: ['ignore', fd, fd],
    })
    if (options.detached) {
      child.unref()
    } else if (child.pid !== undefined) {
      const pid = child.pid
      // A run that ends without stopping its services must not leave them behind.
      process.once('exit', () => {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      })
    }
    return child
  } finally {
    closeSync(fd)
  }
}

/**
 * Stops a child this process started and resolves once it has exited *and* been reaped, so a
 * caller that checks the pid right after sees it gone.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined) return
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await terminate(child.pid, graceMs)
  await exited
}

/** Sends SIGTERM, waits up to `graceMs` for the exit, then SIGKILL. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isAlive(pid) || isZombie(pid)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  while (isAlive(pid) && !isZombie(pid)) await new Promise((resolve) => setTimeout(resolve, 50))
}

/** A child that exited but was not reaped yet still answers signal 0. */
function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** The last lines of a log file, for error messages. */
export function tail(logFile: string, lines = 30): string {
  if (!existsSync(logFile)) return '(no log written)'
  return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')
}
