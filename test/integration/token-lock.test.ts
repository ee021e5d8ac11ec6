import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  createTokenLock,
  markRedisInitialised,
  type TokenLock,
} from '@wolkvox-chat-stream/token-lock'
import { runScript } from '../support/child-lines.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const CANARY = 'canary-token-7c1e55f0-do-not-log'

/** A new lock on its own server code, free to take. */
async function freshLock(
  redis: Redis,
  ttlMs: number,
  token = `${CANARY}-${uniqueName('t')}`,
): Promise<{ lock: TokenLock; server: string; token: string }> {
  const server = String(Math.floor(Math.random() * 900_000) + 100_000)
  const lock = createTokenLock({ redis, server, token, ttlMs })
  // The very first lock on an empty Redis waits out one TTL (see the data-loss tests).
  const handle = await waitFor(() => lock.tryAcquire(), {
    timeoutMs: ttlMs * 3,
    intervalMs: 50,
    what: 'a free lock',
  })
  await handle.release()
  return { lock, server, token }
}

describe('the token lock on a real Redis', () => {
  let redis: Redis
  const redisUrl = inject('redisUrl')

  beforeAll(async () => {
    redis = createRedis(redisUrl, { role: 'lock', name: 'token-lock-test' })
    await waitUntilReady(redis)
  })

  afterAll(async () => {
    await redis.quit()
  })

  it('grants one holder at a time, with fences that only grow', async () => {
    const { lock } = await freshLock(redis, 2_000)
    const first = await lock.tryAcquire()
    expect(first).not.toBeNull()
    expect(await lock.tryAcquire()).toBeNull()
    await first!.release()
    const second = await lock.tryAcquire()
    expect(second!.fence).toBeGreaterThan(first!.fence)
    await second!.release()
  })

  it('answers "busy" after the bounded wait, and runs the work once it is free', async () => {
    const { lock } = await freshLock(redis, 2_000)
    const holder = await lock.tryAcquire()
    const busy = await lock.withLock({ waitMs: 300 }, () => Promise.resolve('never'))
    expect(busy).toMatchObject({ status: 'busy', reason: 'busy' })
    if (busy.status === 'busy') expect(busy.waitMs).toBeGreaterThanOrEqual(300)
    setTimeout(() => void holder!.release(), 200)
    const done = await lock.withLock({ waitMs: 5_000 }, (_signal, fence) => Promise.resolve(fence))
    expect(done.status).toBe('done')
  })

  it('renews the lease while long work runs, and keeps the signal quiet', async () => {
    const { lock } = await freshLock(redis, 600)
    const result = await lock.withLock({ waitMs: 1_000 }, async (signal) => {
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      return signal.aborted
    })
    expect(result).toMatchObject({ status: 'done', value: false })
  })

  it('keeps the lease for the upstream limit after an aborted call, instead of releasing it', async () => {
    const server = String(Math.floor(Math.random() * 900_000) + 100_000)
    const lock = createTokenLock({
      redis,
      server,
      token: `${CANARY}-abort`,
      ttlMs: 600,
      upstreamLimitMs: 5_000,
    })
    await waitFor(async () => (await lock.tryAcquire())?.release().then(() => true), {
      timeoutMs: 3_000,
      intervalMs: 50,
    })
    await expect(
      lock.withLock({ waitMs: 1_000 }, (_signal, _fence, lease) => {
        lease.keepAfterAbortedCall()
        return Promise.reject(new Error('request timed out client-side'))
      }),
    ).rejects.toThrow('timed out')
    const pttl = await redis.pttl(lock.keys.lock)
    expect(pttl).toBeGreaterThan(3_000)
    expect(await lock.tryAcquire()).toBeNull()
  })

  it('never writes the token, only its hash, in any Redis key or value', async () => {
    const { lock } = await freshLock(redis, 2_000)
    await lock.withLock({ waitMs: 1_000 }, async (_s, fence, lease) => {
      expect(await lease.fencedSet('watermark', `w-${fence}`)).toEqual({ ok: true })
    })
    const seen: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        seen.push(key)
        const type = await redis.type(key)
        if (type === 'string') seen.push((await redis.get(key)) ?? '')
        if (type === 'hash') seen.push(JSON.stringify(await redis.hgetall(key)))
      }
    } while (cursor !== '0')
    expect(seen.some((text) => text.includes(lock.keys.lock))).toBe(true)
    expect(seen.filter((text) => text.includes('canary'))).toEqual([])
  })

  it('frees the lock within its TTL when the holder is killed with SIGKILL', async () => {
    const ttlMs = 1_500
    const { lock, server, token } = await freshLock(redis, ttlMs)
    const child = runScript('lock-holder-child.ts', [
      redisUrl,
      server,
      token,
      String(ttlMs),
      'hold',
    ])
    await child.next('acquired')
    expect(await lock.tryAcquire()).toBeNull()
    child.process.kill('SIGKILL')
    await child.exited
    const killedAt = Date.now()
    const result = await lock.withLock({ waitMs: ttlMs * 3 }, () => Promise.resolve(Date.now()))
    expect(result.status).toBe('done')
    if (result.status === 'done') expect(result.value - killedAt).toBeLessThanOrEqual(ttlMs + 300)
  })

  it('aborts a holder paused past its lease and rejects its fenced write', async () => {
    const ttlMs = 1_500
    const { lock, server, token } = await freshLock(redis, ttlMs)
    const child = runScript('lock-holder-child.ts', [
      redisUrl,
      server,
      token,
      String(ttlMs),
      'pause',
    ])
    const acquired = await child.next('acquired')
    child.process.kill('SIGSTOP')
    try {
      // Someone else takes the token once the paused holder's lease has run out, and moves the watermark.
      const taken = await lock.withLock({ waitMs: ttlMs * 3 }, async (_signal, fence, lease) => {
        expect(fence).toBeGreaterThan(Number(acquired.fence))
        return lease.fencedSet('watermark', `parent-${fence}`)
      })
      expect(taken).toMatchObject({ status: 'done', value: { ok: true } })
    } finally {
      child.process.kill('SIGCONT')
    }
    const after = await child.next('after-abort')
    expect(after.aborted).toBe(true)
    expect(['expired', 'lost']).toContain(after.reason)
    expect(after.write).toMatchObject({ ok: false, reason: 'lease_lost' })
    expect(await lock.readState('watermark')).toMatch(/^parent-/)
    await child.exited
  })

  it('refuses a compare-and-set whose expected value is not the current one', async () => {
    const { lock } = await freshLock(redis, 2_000)
    const newer = await lock.withLock({ waitMs: 1_000 }, (_s, fence, lease) =>
      lease.fencedSet('w', 'a').then(() => fence),
    )
    expect(newer.status).toBe('done')
    const cas = await lock.withLock({ waitMs: 1_000 }, (_s, _f, lease) =>
      lease.fencedSet('w', 'b', 'not-a'),
    )
    expect(cas).toMatchObject({
      status: 'done',
      value: { ok: false, reason: 'conflict', current: 'a' },
    })
  })
})

describe('the token lock when Redis loses its data', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    server = await startRedisServer()
    redis = createRedis(server.url, { role: 'lock', name: 'token-lock-loss' })
    await waitUntilReady(redis)
  })

  afterAll(async () => {
    redis.disconnect()
    await server.stop()
  })

  it('quarantines the first lock of an empty Redis for one TTL, then grants new locks at once', async () => {
    const admin = createRedis(server.url, { name: 'flusher' })
    await admin.flushall()
    await admin.quit()
    const ttlMs = 1_000
    const first = createTokenLock({ redis, server: '424242', token: `${CANARY}-first`, ttlMs })
    const startedAt = Date.now()
    expect(await first.tryAcquire()).toBeNull()
    const granted = await first.withLock({ waitMs: ttlMs * 3 }, () => Promise.resolve(Date.now()))
    expect(granted.status).toBe('done')
    if (granted.status === 'done')
      expect(granted.value - startedAt).toBeGreaterThanOrEqual(ttlMs - 50)
    // Redis now has its epoch: a lock it has never seen is not a sign of lost data.
    const second = createTokenLock({ redis, server: '434343', token: `${CANARY}-second`, ttlMs })
    const lease = await second.tryAcquire()
    expect(lease).not.toBeNull()
    await lease!.release()
  })

  it('grants the first lease of a new Redis at once when it was marked initialised (as the dev stack marks its own)', async () => {
    const admin = createRedis(server.url, { name: 'flusher' })
    try {
      await admin.flushall()
      expect(await markRedisInitialised(admin)).toBe(true)
      // A Redis already marked keeps its epoch as it is.
      const epoch = await admin.get('wcs:global:lock-epoch')
      expect(await markRedisInitialised(admin)).toBe(false)
      expect(await admin.get('wcs:global:lock-epoch')).toBe(epoch)
    } finally {
      await admin.quit()
    }
    const quarantines: unknown[] = []
    const lock = createTokenLock({
      redis,
      server: '454545',
      token: `${CANARY}-marked`,
      ttlMs: 60_000,
      hooks: { onQuarantine: (info) => quarantines.push(info) },
    })
    const lease = await lock.tryAcquire()
    expect(lease).not.toBeNull()
    await lease!.release()
    const result = await lock.withLock({ waitMs: 0 }, (_s, fence) => Promise.resolve(fence))
    expect(result.status).toBe('done')
    expect(quarantines).toEqual([])
  })

  it('says once, to every caller held back, why and how long the first lease of a new Redis not marked waits', async () => {
    const admin = createRedis(server.url, { name: 'flusher' })
    await admin.flushall()
    await admin.quit()
    const ttlMs = 1_500
    const seen: { who: string; waitMs: number; ttlMs: number }[] = []
    const contender = (who: string): TokenLock =>
      createTokenLock({
        redis,
        server: '464646',
        token: `${CANARY}-unmarked`,
        ttlMs,
        hooks: { onQuarantine: (info) => seen.push({ who, ...info }) },
      })
    const startedAt = Date.now()
    const first = contender('first')
    const firstResult = first.withLock({ waitMs: ttlMs * 4 }, () => Promise.resolve(Date.now()))
    // The second finds the quarantine the first one's acquire set: it waits for the same reason.
    await waitFor(() => seen.length === 1, { timeoutMs: 5_000, what: 'the first quarantine' })
    const second = contender('second')
    const secondResult = await second.withLock({ waitMs: ttlMs * 4 }, () =>
      Promise.resolve(Date.now()),
    )
    const done = await firstResult
    expect(done.status).toBe('done')
    expect(secondResult.status).toBe('done')
    if (done.status === 'done') expect(done.value - startedAt).toBeGreaterThanOrEqual(ttlMs - 50)
    expect(seen.map((s) => s.who).sort()).toEqual(['first', 'second'])
    for (const s of seen) {
      expect(s.ttlMs).toBe(ttlMs)
      expect(s.waitMs).toBeGreaterThan(0)
      expect(s.waitMs).toBeLessThanOrEqual(ttlMs)
    }
    // The first asked when the quarantine was just set: all of it is left (less the few ms
    // between reading the Redis-wide epoch and the acquire).
    expect(seen.find((s) => s.who === 'first')!.waitMs).toBeGreaterThan(ttlMs - 100)
  })

  it('holds back every lock after a loss, not only the first one asked for (regression: a second operation got its token at once)', async () => {
    const ttlMs = 1_500
    const a = await freshLock(redis, ttlMs)
    const b = await freshLock(redis, ttlMs)
    const admin = createRedis(server.url, { name: 'flusher' })
    await admin.flushall()
    const flushedAt = Date.now()
    await admin.quit()
    // A's acquire finds the loss first and writes the Redis-wide epoch again …
    expect(await a.lock.tryAcquire()).toBeNull()
    // … so B finds that epoch, but not its own: it may have had a lease before the loss.
    const waits: number[] = []
    const held = createTokenLock({
      redis,
      server: b.server,
      token: b.token,
      ttlMs,
      hooks: { onQuarantine: ({ waitMs }) => waits.push(waitMs) },
    })
    expect(await held.tryAcquire()).toBeNull()
    const granted = await held.withLock({ waitMs: ttlMs * 4 }, () => Promise.resolve(Date.now()))
    expect(granted.status).toBe('done')
    if (granted.status === 'done')
      expect(granted.value - flushedAt).toBeGreaterThanOrEqual(ttlMs - 50)
    expect(waits).toHaveLength(1)
    expect(waits[0]).toBeGreaterThan(0)
    expect(waits[0]).toBeLessThanOrEqual(ttlMs)
  })

  it('grants no second lease for one TTL after a FLUSHALL, and aborts the holder', async () => {
    const ttlMs = 1_500
    const { lock } = await freshLock(redis, ttlMs)
    const holder = await lock.tryAcquire()
    expect(holder).not.toBeNull()
    const admin = createRedis(server.url, { name: 'flusher' })
    await admin.flushall()
    const flushedAt = Date.now()
    await admin.quit()
    const second = await lock.withLock({ waitMs: ttlMs * 4 }, (_s, fence) =>
      Promise.resolve({ at: Date.now(), fence }),
    )
    expect(second.status).toBe('done')
    if (second.status === 'done') {
      expect(second.value.at - flushedAt).toBeGreaterThanOrEqual(ttlMs - 50)
      // The fence keeps growing although the counter was flushed.
      expect(second.value.fence).toBeGreaterThan(holder!.fence)
    }
    await waitFor(() => holder!.signal.aborted, {
      timeoutMs: ttlMs * 2,
      what: 'the old holder to be aborted',
    })
    await holder!.release()
  })

  it('grants no second lease for one TTL after a restart without persistence', async () => {
    const ttlMs = 1_500
    const { lock } = await freshLock(redis, ttlMs)
    const holder = await lock.tryAcquire()
    await server.stopProcess()
    await server.start()
    const restartedAt = Date.now()
    await waitUntilReady(redis, { timeoutMs: 10_000 }).catch(() => undefined)
    const second = await waitFor(
      async () => {
        const r = await lock
          .withLock({ waitMs: ttlMs * 4 }, () => Promise.resolve(Date.now()))
          .catch(() => null)
        return r?.status === 'done' ? r : null
      },
      { timeoutMs: ttlMs * 8, what: 'a lease after the restart' },
    )
    expect(second.value - restartedAt).toBeGreaterThanOrEqual(ttlMs - 50)
    await waitFor(() => holder!.signal.aborted, {
      timeoutMs: ttlMs * 2,
      what: 'the old holder to be aborted',
    })
    await holder!.release()
  })
})
