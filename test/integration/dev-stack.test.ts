import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  cleanupOrphans,
  devStackHome,
  freePort,
  isAlive,
  isPortFree,
  listProcesses,
  registerProcess,
  startKafkaBroker,
  startRedisServer,
  type KafkaBroker,
} from '@wolkvox-chat-stream/dev-stack'
import { createKafkaClient, waitForKafka } from '@wolkvox-chat-stream/kafka'
import { pingRedis } from '@wolkvox-chat-stream/redis'
import { waitFor } from '../support/wait-for.js'

const childScript = fileURLToPath(new URL('../support/start-broker-child.ts', import.meta.url))

describe('dev-stack lifecycle', () => {
  it('starts, stops and starts again on the same ports with no clash, leaving no process', async () => {
    const first = await startKafkaBroker()
    const { port, controllerPort } = first
    const firstPid = first.pid()
    expect(listProcesses(devStackHome()).some((r) => r.pid === firstPid)).toBe(true)
    await first.stop()
    expect(isAlive(firstPid)).toBe(false)
    expect(existsSync(first.workDir)).toBe(false)
    expect(await isPortFree(port)).toBe(true)
    expect(listProcesses(devStackHome()).some((r) => r.pid === firstPid)).toBe(false)

    const second = await startKafkaBroker({ port, controllerPort })
    const secondPids = [second.pid()]
    try {
      expect(second.brokers).toBe(`127.0.0.1:${port}`)
      await waitForKafka([second.brokers], { timeoutMs: 30_000 })
      // A restart of the same broker keeps its data and ports (fault tests rely on it).
      await second.stopProcess()
      await second.start()
      secondPids.push(second.pid())
      await waitForKafka([second.brokers], { timeoutMs: 30_000 })
    } finally {
      await second.stop()
    }
    for (const pid of secondPids) expect(isAlive(pid)).toBe(false)
    expect(await isPortFree(port)).toBe(true)
  })

  it('says a node did not become ready, not that it exited, when its wait runs out (regression: its own stop read as an exit)', async () => {
    // A readiness check that gives up at once, as a timed-out one does, while the JVM runs on.
    const giveUp = () => Promise.reject(new Error('readiness wait ran out'))
    const error = await startKafkaBroker({ ready: giveUp }).then(
      async (broker) => {
        await broker.stop()
        return new Error('a broker was ready although its readiness check gave up')
      },
      (caught: unknown) => caught,
    )
    expect(error).toMatchObject({ code: 'DEV_STACK_BROKER_START_FAILED' })
    expect((error as Error).message.split('\n')[0]).toMatch(
      /^Kafka \S+ node \d+ on 127\.0\.0\.1:\d+ did not become ready; see \S+server\.log$/,
    )
  })

  it('restarts a private redis-server on the same port', async () => {
    const redis = await startRedisServer()
    try {
      await redis.stopProcess()
      expect(await pingRedis(redis.url, { timeoutMs: 300 })).toBe(false)
      await redis.start()
      expect(await pingRedis(redis.url, { timeoutMs: 1_000 })).toBe(true)
    } finally {
      await redis.stop()
    }
    expect(await pingRedis(redis.url, { timeoutMs: 300 })).toBe(false)
  })

  it('leaves alone a process still starting for a live run (regression: a redis-server beside another start lost its folder)', () => {
    const home = mkdtempSync(join(tmpdir(), 'dev-stack-home-'))
    // A child whose command line does not show its marker yet, as redis-server before it renames
    // its process, owned by this live run.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      const workDir = join(home, 'redis', 'starting')
      mkdirSync(workDir, { recursive: true })
      registerProcess(home, {
        kind: 'redis',
        pid: child.pid!,
        ownerPid: process.pid,
        marker: ':65535',
        workDir,
        ports: [65535],
        startedAt: new Date().toISOString(),
      })
      expect(cleanupOrphans(home)).toEqual([])
      expect(existsSync(workDir)).toBe(true)
      expect(listProcesses(home).map((r) => r.pid)).toEqual([child.pid])
    } finally {
      child.kill('SIGKILL')
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('removes a broker orphaned by a killed run at the next start', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', childScript], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      child.once('exit', (code) =>
        reject(new Error(`child exited with ${code} before starting a broker`)),
      )
    })
    const orphan = JSON.parse(line) as { pid: number; workDir: string; brokers: string }
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    // The run that owned it is dead; the broker is not.
    expect(isAlive(orphan.pid)).toBe(true)

    const redis = await startRedisServer()
    await redis.stop()

    const deadline = Date.now() + 10_000
    while (isAlive(orphan.pid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(isAlive(orphan.pid)).toBe(false)
    expect(existsSync(orphan.workDir)).toBe(false)
    expect(listProcesses(devStackHome()).some((r) => r.pid === orphan.pid)).toBe(false)
  })

  it('starts two brokers wishing for the same ports side by side, each on its own (regression: two stack:up at once, one "ready" on the other\'s broker and then dead)', async () => {
    const port = await freePort()
    let controllerPort = await freePort()
    while (controllerPort === port) controllerPort = await freePort()
    const wish = { port, controllerPort, portsPreferred: true }
    const first = startKafkaBroker(wish)
    // The second starts once the first's JVM is spawned and before it binds: the port still looks
    // free to it, and the first is ready by the time the second's probe runs; then the second's
    // own JVM fails to bind.
    await waitFor(
      () => listProcesses(devStackHome()).some((r) => r.kind === 'kafka' && r.ports?.[0] === port),
      { timeoutMs: 60_000, intervalMs: 20, what: 'the first JVM spawned' },
    )
    const started = await Promise.allSettled([first, startKafkaBroker(wish)])
    const brokers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    try {
      expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled'])
      const [a, b] = brokers as [KafkaBroker, KafkaBroker]
      // One got the wished-for port; the other noticed and started again on free ones.
      expect([a.port, b.port]).toContain(port)
      expect(a.port).not.toBe(b.port)
      const ids: string[] = []
      for (const broker of [a, b]) {
        expect(broker.running()).toBe(true)
        expect(isAlive(broker.pid())).toBe(true)
        const admin = createKafkaClient({
          brokers: [broker.brokers],
          clientId: 'two-starts',
        }).admin()
        await admin.connect()
        try {
          ids.push((await admin.describeCluster()).clusterId)
        } finally {
          await admin.disconnect()
        }
      }
      expect(ids[0]).not.toBe(ids[1])
    } finally {
      await Promise.all(brokers.map((b) => b.stop()))
    }
  })
})
