/*
 * The token lock under contention: CONTENDERS concurrent workers, each with its own connection,
 * take turns on one lock until ACQUISITIONS leases were granted and released.
 *   BENCH_SIDE=lock      the project's lock (Lua acquire with fence and epoch, Lua release)
 *   BENCH_SIDE=raw       the baseline: SET NX PX and DEL round trips, no fencing, no checks
 * Env: BENCH_REDIS_URL, BENCH_CONTENDERS (20), BENCH_ACQUISITIONS (5000).
 */
import { randomBytes } from 'node:crypto'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import { numberFromEnv, reportResult } from '../case-support.js'

const url = process.env.BENCH_REDIS_URL ?? ''
const side = process.env.BENCH_SIDE ?? 'lock'
const contenders = numberFromEnv('BENCH_CONTENDERS', 20)
const target = numberFromEnv('BENCH_ACQUISITIONS', 5_000)
const server = String(100_000 + Math.floor(Math.random() * 800_000))
const token = randomBytes(12).toString('hex')

const connections: Redis[] = []
for (let i = 0; i < contenders; i++) {
  const redis = createRedis(url, { role: 'lock', name: `bench-${side}-${i}` })
  await waitUntilReady(redis)
  connections.push(redis)
}

let granted = 0
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function lockWorker(redis: Redis): Promise<void> {
  const lock = createTokenLock({ redis, server, token, ttlMs: 10_000 })
  while (granted < target) {
    const lease = await lock.tryAcquire()
    if (lease) {
      granted++
      await lease.release()
    }
    await yieldTurn()
  }
}

async function rawWorker(redis: Redis): Promise<void> {
  const key = `bench:raw:{${server}}:lock`
  while (granted < target) {
    const value = randomBytes(16).toString('hex')
    if ((await redis.set(key, value, 'PX', 10_000, 'NX')) === 'OK') {
      granted++
      await redis.del(key)
    }
    await yieldTurn()
  }
}

if (side === 'lock') {
  // Pass the one-TTL quarantine of a lock Redis has never seen before timing anything.
  const warm = createTokenLock({ redis: connections[0]!, server, token, ttlMs: 200 })
  while (!(await warm.tryAcquire().then(async (l) => (l ? (await l.release(), true) : false)))) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const started = performance.now()
await Promise.all(
  connections.map((redis) => (side === 'lock' ? lockWorker(redis) : rawWorker(redis))),
)
const durationMs = performance.now() - started
for (const redis of connections) redis.disconnect()
reportResult({ items: granted, durationMs })
