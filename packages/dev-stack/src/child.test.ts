import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { notReaped, signalChild, spawnLogged, stopChild } from './child.js'

const dirs: string[] = []
const logFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-stack-child-'))
  dirs.push(dir)
  return join(dir, 'out.log')
}

/** Whether any process is left in the process group `pgid` (signal 0 sends nothing). */
const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

afterEach(() => {
  vi.restoreAllMocks()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('stopping the children of the dev stack', () => {
  it('never signals a child already reaped: its pid may be another process’s by then (regression: the exit hook SIGKILLed pids it had stopped)', async () => {
    const child = spawnLogged('sleep', ['30'], { logFile: logFile(), detached: false })
    await stopChild(child, 5_000)
    expect(notReaped(child)).toBe(false)
    const kill = vi.spyOn(process, 'kill')
    expect(signalChild(child, 'SIGKILL')).toBe(false)
    await stopChild(child, 5_000)
    expect(kill).not.toHaveBeenCalled()
  })

  it('stops a child leading its own process group together with what it started', async () => {
    // A shell that starts a second process in its group and waits for it.
    const child = spawnLogged('sh', ['-c', 'sleep 30 & wait'], {
      logFile: logFile(),
      detached: false,
      ownGroup: true,
    })
    const pgid = child.pid!
    expect(groupAlive(pgid)).toBe(true)
    await stopChild(child, 5_000)
    expect(child.signalCode).toBe('SIGTERM')
    // The group's other member got the SIGTERM too; init reaps it a moment after it exits.
    const deadline = Date.now() + 5_000
    while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(groupAlive(pgid)).toBe(false)
  })

  it('kills a child that ignores SIGTERM once the grace is over', async () => {
    const file = logFile()
    const child = spawnLogged('sh', ['-c', 'trap "" TERM; echo trapped; sleep 30 & wait; wait'], {
      logFile: file,
      detached: false,
      ownGroup: true,
    })
    // The SIGTERM must reach a shell that already ignores it (not one still starting).
    const deadline = Date.now() + 10_000
    const trapped = (): boolean =>
      existsSync(file) && readFileSync(file, 'utf8').includes('trapped')
    while (!trapped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await stopChild(child, 300)
    expect(child.signalCode).toBe('SIGKILL')
  })
})
