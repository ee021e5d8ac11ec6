import { spawn } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { freePort, startRedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'

const cli = fileURLToPath(new URL('../../packages/doctor/src/cli.ts', import.meta.url))

/** What one `npm run doctor` printed, and how it exited. */
export interface DoctorRun {
  code: number | null
  stdout: string
  stderr: string
  /** The report's lines (stdout without the summary line). */
  lines: string[]
  /** How long the run took, start of the process to its exit. */
  elapsedMs: number
}

/** `npm run doctor -- <args>` as its own process with exactly `env` (plus PATH and HOME). */
export async function runDoctorCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<DoctorRun> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const lines = stdout.split('\n').filter((l) => l !== '' && !/^(not )?ready: /u.test(l))
  return { code, stdout, stderr, lines, elapsedMs: Date.now() - started }
}

/** The line of `check` in a run (`✓ kafka topics (…)`, `✗ kafka topics: …`), or undefined. */
export function lineOf(run: DoctorRun, check: string): string | undefined {
  return run.lines.find(
    (l) =>
      l.slice(2).startsWith(`${check} (`) ||
      l.slice(2).startsWith(`${check}:`) ||
      l.slice(2) === check,
  )
}

/** A TCP port that accepts connections and never answers: a Kafka that hangs. */
export async function silentPort(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  return freePort()
}

/**
 * A redis-server of this test's own (the dev stack's, on a free port, stopped by its pid: never
 * the machine's Redis), set to `maxmemory-policy allkeys-lru`.
 */
export async function startEvictingRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  return startConfiguredRedis(['maxmemory-policy', 'allkeys-lru'])
}

/**
 * A redis-server of this test's own (as {@link startEvictingRedis}) that requires `password`
 * (`requirepass`): `url` holds no password.
 */
export async function startPasswordRedis(
  password: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  return startConfiguredRedis(['requirepass', password])
}

/** The dev stack's redis-server with one `CONFIG SET <name> <value>` made at start. */
async function startConfiguredRedis([name, value]: [string, string]): Promise<{
  url: string
  stop(): Promise<void>
}> {
  const server = await startRedisServer()
  const redis = createRedis(server.url)
  try {
    await waitUntilReady(redis)
    await redis.config('SET', name, value)
  } catch (error) {
    await server.stop()
    throw error
  } finally {
    redis.disconnect()
  }
  return { url: server.url, stop: () => server.stop() }
}
