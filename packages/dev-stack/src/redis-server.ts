import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import { pingRedis } from '@wolkvox-chat-stream/redis'
import { spawnLogged, stopChild, tail } from './child.js'
import { devStackHome } from './paths.js'
import { freePort, isPortFree } from './ports.js'
import { assertPrerequisites } from './prerequisites.js'
import {
  cleanupOrphans,
  registerProcess,
  unregisterProcess,
  type ProcessRecord,
} from './process-registry.js'

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** A free one when omitted. */
  port?: number
  /** Keep data on disk with the append-only file (off by default, like the machine's Redis). */
  appendOnly?: boolean
  detached?: boolean
  /** In a process group of its own: a terminal's Ctrl-C reaches only its owner (npm start). */
  ownProcessGroup?: boolean
  home?: string
  readyTimeoutMs?: number
}

/** A private `redis-server` that this process started. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  readonly workDir: string
  pid(): number
  /** Stops the process, keeping its folder, so {@link RedisServer.start} can bring it back. */
  stopProcess(): Promise<void>
  /** Starts it again on the same port (after {@link RedisServer.stopProcess}). */
  start(): Promise<void>
  /** Stops it and removes its folder. Safe to call twice. */
  stop(): Promise<void>
}

/**
 * Starts a private `redis-server` on 127.0.0.1 and resolves once it answers PING. Tests use only
 * servers they started; the machine's shared Redis is never touched by a test.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_REDIS_START_FAILED`.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const home = options.home ?? devStackHome()
  assertPrerequisites(['redis-server'])
  cleanupOrphans(home)
  const port = options.port ?? (await freePort())
  if (!(await isPortFree(port))) {
    throw new AppError(
      'DEV_STACK_REDIS_START_FAILED',
      `Port ${port} on 127.0.0.1 is already in use`,
    )
  }
  const workDir = join(
    home,
    'redis',
    `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
  )
  mkdirSync(workDir, { recursive: true })
  const logFile = join(workDir, 'redis.log')
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--dir',
    workDir,
    '--logfile',
    logFile,
    '--daemonize',
    'no',
  ]
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let record: ProcessRecord | undefined
  let removed = false

  const start = async (): Promise<void> => {
    const proc = spawnLogged('redis-server', args, {
      logFile: join(workDir, 'stdout.log'),
      detached: options.detached ?? false,
      ownGroup: options.ownProcessGroup ?? false,
    })
    child = proc
    if (proc.pid === undefined)
      throw new AppError('DEV_STACK_REDIS_START_FAILED', 'redis-server could not be started')
    // redis-server rewrites its process title to `redis-server 127.0.0.1:<port>`.
    record = {
      kind: 'redis',
      pid: proc.pid,
      ownerPid: options.detached ? null : process.pid,
      marker: `:${port}`,
      workDir,
      ports: [port],
      startedAt: new Date().toISOString(),
    }
    registerProcess(home, record)
    const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000)
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break
      if (await pingRedis(url, { timeoutMs: 500 })) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await stopChild(proc, 2_000)
    unregisterProcess(home, record)
    throw new AppError(
      'DEV_STACK_REDIS_START_FAILED',
      `redis-server on port ${port} did not answer PING:\n${tail(logFile, 10)}`,
    )
  }

  const stopProcess = async (): Promise<void> => {
    if (child?.pid === undefined || record === undefined) return
    await stopChild(child, 10_000)
    unregisterProcess(home, record)
    child = undefined
  }

  await start()
  return {
    url,
    port,
    workDir,
    pid: () => child?.pid ?? -1,
    stopProcess,
    start: async () => {
      if (removed)
        throw new AppError(
          'DEV_STACK_REDIS_START_FAILED',
          'this redis-server was stopped and removed',
        )
      if (child === undefined) await start()
    },
    stop: async () => {
      await stopProcess()
      if (!removed) rmSync(workDir, { recursive: true, force: true })
      removed = true
    },
  }
}
