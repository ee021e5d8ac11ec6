import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { isAlive } from './process-registry.js'

/** Attached children still running, killed if this process exits first. */
const killAtExit = new Set<ChildProcess>()
/** Children that lead a process group of their own: they are signalled as a group. */
const groupLeaders = new WeakSet<ChildProcess>()
let exitHooked = false

/**
 * Whether this process has not yet seen `child` exit. Until Node reaps a child (which is when it
 * sets `exitCode` or `signalCode`, in the same callback), its pid, and the process group it
 * leads, cannot be given to another process: a signal sent while this is true reaches only it.
 */
export function notReaped(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null
}

/**
 * Sends `signal` to a child this process started (to its whole process group when it leads one),
 * only while it is not reaped: never to a pid that may already be someone else's.
 * Returns whether the signal was sent.
 */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (!notReaped(child)) return false
  try {
    process.kill(groupLeaders.has(child) ? -child.pid! : child.pid!, signal)
    return true
  } catch {
    return false
  }
}

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
    const ownGroup = options.detached || options.ownGroup === true
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: ownGroup,
      stdio: ['ignore', fd, fd],
    })
    if (ownGroup && child.pid !== undefined) groupLeaders.add(child)
    if (options.detached) {
      child.unref()
    } else if (child.pid !== undefined) {
      // A run that ends without stopping its services must not leave them behind: one exit
      // listener for every child (a listener per child grew without bound as a long chaos run
      // restarted its broker and Redis), each child forgotten once it has exited, and only one
      // not yet reaped signalled (a pid already stopped may belong to another process by then).
      killAtExit.add(child)
      child.once('exit', () => killAtExit.delete(child))
      if (!exitHooked) {
        exitHooked = true
        process.once('exit', () => {
          for (const left of killAtExit) signalChild(left, 'SIGKILL')
        })
      }
    }
    return child
  } finally {
    closeSync(fd)
  }
}

/**
 * Stops a child this process started: SIGTERM, then SIGKILL after `graceMs`, each to its whole
 * process group when it leads one (so nothing it started stays behind), and each only while the
 * child is not reaped (see {@link signalChild}). Resolves once it has exited *and* been reaped, so
 * a caller that checks the pid right after sees it gone.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!notReaped(child)) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  signalChild(child, 'SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const graceOver = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs)
  })
  const late = (await Promise.race([exited, graceOver])) === 'late'
  clearTimeout(timer)
  if (late) signalChild(child, 'SIGKILL')
  await exited
}

/**
 * Stops a process this one did not start (a detached stack's, recorded by an earlier run):
 * SIGTERM, up to `graceMs` for the exit, then SIGKILL. `stillOurs` is asked before each signal
 * (the recorded command line still matches), so a pid given to another process after the exit
 * is left alone. For a child of this process use {@link stopChild}.
 */
export async function terminate(
  pid: number,
  graceMs: number,
  stillOurs: () => boolean = () => isAlive(pid),
): Promise<void> {
  if (!stillOurs()) return
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
  if (!isAlive(pid) || isZombie(pid) || !stillOurs()) return
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
