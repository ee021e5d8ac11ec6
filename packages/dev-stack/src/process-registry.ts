import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runDir } from './paths.js'

/**
 * A process the dev stack started, recorded in a pid file so that a later start can find it when
 * the run that owned it was killed (a test runner stopped with SIGKILL cannot stop its broker).
 */
export interface ProcessRecord {
  kind: 'kafka' | 'redis' | 'service'
  pid: number
  /** The node process that owns it; `null` for a detached stack from `stack:up`. */
  ownerPid: number | null
  /** A string found in the process's command line, so a reused pid is never killed by mistake. */
  marker: string
  /** Removed together with the process when it is cleaned up (services of `npm start` have none). */
  workDir?: string
  ports: number[]
  startedAt: string
}

const file = (home: string, kind: string, pid: number): string =>
  join(runDir(home), `${kind}-${pid}.json`)

export function registerProcess(home: string, record: ProcessRecord): void {
  mkdirSync(runDir(home), { recursive: true })
  writeFileSync(file(home, record.kind, record.pid), `${JSON.stringify(record, null, 2)}\n`)
}

export function unregisterProcess(home: string, record: Pick<ProcessRecord, 'kind' | 'pid'>): void {
  rmSync(file(home, record.kind, record.pid), { force: true })
}

export function listProcesses(home: string): ProcessRecord[] {
  const dir = runDir(home)
  if (!existsSync(dir)) return []
  const records: ProcessRecord[] = []
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue
    try {
      records.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessRecord)
    } catch {
      rmSync(join(dir, name), { force: true })
    }
  }
  return records
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  // 0 and negative pids address process groups: never a single process of ours.
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The command line of a live process, or '' (Linux `/proc`; elsewhere pids are trusted less). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** Whether the recorded process is still the one we started (alive, and its command line matches). */
export function isOurProcess(record: ProcessRecord): boolean {
  if (!isAlive(record.pid)) return false
  const cmdline = commandLine(record.pid)
  return cmdline === '' || cmdline.includes(record.marker)
}

/**
 * Kills the processes whose owner has died, removes their folders and pid files, and forgets
 * records of processes that are gone. Detached stacks (`ownerPid: null`) are left to `stack:down`.
 * Returns what was cleaned.
 */
export function cleanupOrphans(home: string): ProcessRecord[] {
  const cleaned: ProcessRecord[] = []
  for (const record of listProcesses(home)) {
    const running = isOurProcess(record)
    const orphaned =
      record.ownerPid !== null && record.ownerPid !== process.pid && !isAlive(record.ownerPid)
    if (running && !orphaned) continue
    // A live process whose owner lives is the owner's to stop, even when its command line does
    // not show the marker: redis-server rewrites its title only a moment after it starts, and
    // removing its folder then (another run starting at the same time) made it fail to start.
    if (!orphaned && record.ownerPid !== null && isAlive(record.pid)) continue
    if (running) {
      try {
        process.kill(record.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    if (record.workDir !== undefined) rmSync(record.workDir, { recursive: true, force: true })
    unregisterProcess(home, record)
    cleaned.push(record)
  }
  return cleaned
}
