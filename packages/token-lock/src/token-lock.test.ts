/*
 * The token lock's own logic, without Redis: what it sends, how it reads each reply, when the
 * holder's signal fires, how long it waits between tries. A stand-in for Redis keeps the lock,
 * the fence counter and the state hash the way the scripts' documented replies say (scripts.ts);
 * the scripts themselves run on a real Redis in test/integration/token-lock*.test.ts. Time is
 * vitest's fake clock, so every instant below is exact.
 */
import { createHash } from 'node:crypto'
import { Cluster } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Redis } from '@wolkvox-chat-stream/redis'
import { ACQUIRE, EXTEND, FENCED_SET, GLOBAL_EPOCH, RELEASE } from './scripts.js'
import {
  createTokenLock,
  markRedisInitialised,
  type TokenLockHooks,
  type TokenLockOptions,
} from './token-lock.js'

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0)
const TOKEN = 'tok-secret-5f0a'
/** sha256(TOKEN), first 32 hex characters: the only form of the token allowed in a key. */
const TOKEN_HASH = createHash('sha256').update(TOKEN).digest('hex').slice(0, 32)
const LOCK_KEY = `wcs:{0010}:lock:tok-${TOKEN_HASH}`

type ScriptName = 'GLOBAL_EPOCH' | 'ACQUIRE' | 'EXTEND' | 'RELEASE' | 'FENCED_SET'
const scriptNames = new Map<string, ScriptName>([
  [GLOBAL_EPOCH, 'GLOBAL_EPOCH'],
  [ACQUIRE, 'ACQUIRE'],
  [EXTEND, 'EXTEND'],
  [RELEASE, 'RELEASE'],
  [FENCED_SET, 'FENCED_SET'],
])

interface Call {
  script: ScriptName
  keys: string[]
  args: string[]
  at: number
  /** Sent in a pipeline followed by `WAIT replicas ms` (these two numbers, as sent). */
  wait?: [string, string]
}

type Handler = (keys: string[], args: string[]) => unknown

/**
 * Redis as the scripts' contract describes it: one holder per lock key until its expiry, a fence
 * counter that only grows, state hashes written only by the holder with a fence not older than the
 * stored one. `next` replaces the answer to one script for its next call (a reply, an error, or a
 * promise the test settles); `waitAcks` is what `WAIT` answers.
 */
class FakeRedis {
  readonly calls: Call[] = []
  readonly holders = new Map<string, { value: string; expiresAt: number }>()
  readonly fences = new Map<string, number>()
  readonly state = new Map<string, { value: string; fence: number }>()
  readonly strings = new Map<string, string>()
  globalEpoch = '1765000000000'
  waitAcks: number | Error = Number.NaN
  /** Milliseconds the clock moves while an ACQUIRE is in flight. */
  acquireTakesMs = 0
  private readonly queued = new Map<ScriptName, Handler[]>()

  next(script: ScriptName, handler: Handler): void {
    const list = this.queued.get(script) ?? []
    list.push(handler)
    this.queued.set(script, list)
  }

  of(script: ScriptName): Call[] {
    return this.calls.filter((call) => call.script === script)
  }

  private holder(key: string): { value: string; expiresAt: number } | undefined {
    const held = this.holders.get(key)
    return held && held.expiresAt > Date.now() ? held : undefined
  }

  private answer(script: ScriptName, keys: string[], args: string[]): unknown {
    const queued = this.queued.get(script)?.shift()
    if (queued) return queued(keys, args)
    switch (script) {
      case 'GLOBAL_EPOCH':
        return this.globalEpoch
      case 'ACQUIRE': {
        const [lock, fence] = keys as [string, string]
        const held = this.holder(lock)
        if (held) return [0, 'busy', held.expiresAt - Date.now()]
        this.holders.set(lock, { value: args[0]!, expiresAt: Date.now() + Number(args[1]) })
        const next = (this.fences.get(fence) ?? 0) + 1
        this.fences.set(fence, next)
        return [1, next]
      }
      case 'EXTEND': {
        const held = this.holder(keys[0]!)
        if (!held || held.value !== args[0]) return 0
        held.expiresAt = Date.now() + Number(args[1])
        return 1
      }
      case 'RELEASE': {
        if (this.holder(keys[0]!)?.value !== args[0]) return 0
        this.holders.delete(keys[0]!)
        return 1
      }
      case 'FENCED_SET': {
        const [lock, target] = keys as [string, string]
        const [value, fence, newValue, expected] = args as [string, string, string, string]
        if (this.holder(lock)?.value !== value) return [0, 'lease_lost']
        const stored = this.state.get(target)
        if (stored && stored.fence > Number(fence)) return [0, 'stale_fence', String(stored.fence)]
        if (expected !== '' && stored?.value !== expected)
          return [0, 'conflict', stored?.value ?? '']
        this.state.set(target, { value: newValue, fence: Number(fence) })
        return [1]
      }
    }
  }

  private async run(script: string, numKeys: number, rest: string[]): Promise<unknown> {
    const name = scriptNames.get(script)
    if (!name) throw new Error('unknown script')
    const call: Call = {
      script: name,
      keys: rest.slice(0, numKeys),
      args: rest.slice(numKeys),
      at: Date.now(),
    }
    this.calls.push(call)
    if (name === 'ACQUIRE' && this.acquireTakesMs > 0)
      vi.setSystemTime(Date.now() + this.acquireTakesMs)
    return await this.answer(name, call.keys, call.args)
  }

  eval(script: string, numKeys: number, ...rest: string[]): Promise<unknown> {
    return this.run(script, numKeys, rest)
  }

  pipeline(): unknown {
    const steps: (() => Promise<[Error | null, unknown]>)[] = []
    const settle = (promise: Promise<unknown>): Promise<[Error | null, unknown]> =>
      promise.then(
        (value) => [null, value],
        (error: Error) => [error, undefined],
      )
    let scripted: Call | undefined
    const builder = {
      eval: (script: string, numKeys: number, ...rest: string[]) => {
        steps.push(() => {
          const promise = this.run(script, numKeys, rest)
          scripted = this.calls.at(-1)
          return settle(promise)
        })
        return builder
      },
      call: (command: string, replicas: string, ms: string) => {
        steps.push(() => {
          if (command !== 'WAIT' || !scripted) throw new Error('WAIT expected after a script')
          scripted.wait = [replicas, ms]
          const acks = this.waitAcks
          return Promise.resolve<[Error | null, unknown]>(
            acks instanceof Error
              ? [acks, undefined]
              : [null, Number.isNaN(acks) ? +replicas : acks],
          )
        })
        return builder
      },
      exec: async () => {
        const results: [Error | null, unknown][] = []
        for (const step of steps) results.push(await step())
        return results
      },
    }
    return builder
  }

  hget(key: string, field: string): Promise<string | null> {
    if (field !== 'value') throw new Error('only the value field is read')
    return Promise.resolve(this.state.get(key)?.value ?? null)
  }

  set(key: string, value: string, mode: string): Promise<'OK' | null> {
    if (mode !== 'NX') throw new Error('SET NX expected')
    if (this.strings.has(key)) return Promise.resolve(null)
    this.strings.set(key, value)
    return Promise.resolve('OK')
  }
}

function connectionLost(): Error {
  return new Error('Connection is closed.')
}

let fake: FakeRedis
const made: { release(): Promise<void> }[] = []

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
  fake = new FakeRedis()
})

afterEach(async () => {
  for (const handle of made.splice(0)) await handle.release()
  vi.restoreAllMocks()
  vi.useRealTimers()
})

function lockWith(options: Partial<TokenLockOptions> = {}, redis: unknown = fake) {
  return createTokenLock({
    redis: redis as Redis,
    server: '0010',
    token: TOKEN,
    now: () => Date.now(),
    ...options,
  })
}

async function acquire(options: Partial<TokenLockOptions> = {}) {
  const handle = await lockWith(options).tryAcquire()
  if (!handle) throw new Error('expected a lease')
  made.push(handle)
  return handle
}

function hookSpies() {
  const events: [string, unknown][] = []
  const hooks: TokenLockHooks = {
    onAcquired: (info) => events.push(['acquired', info]),
    onQuarantine: (info) => events.push(['quarantine', info]),
    onBusy: (info) => events.push(['busy', info]),
    onReleased: (info) => events.push(['released', info]),
    onLost: (info) => events.push(['lost', info]),
    onUnreplicated: (info) => events.push(['unreplicated', info]),
  }
  return { events, hooks }
}

function abortReason(signal: AbortSignal): { code: string; message: string; details: unknown } {
  const reason = signal.reason as AppError
  expect(reason).toBeInstanceOf(AppError)
  return { code: reason.code, message: reason.message, details: reason.details }
}

describe('createTokenLock: options', () => {
  it('refuses a TTL under 100 ms and accepts 100 ms', () => {
    expect(() => lockWith({ ttlMs: 99 })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: 'token lock: ttlMs must be ≥ 100 and the safety margin under half of it',
      }),
    )
    expect(() => lockWith({ ttlMs: 100 })).not.toThrow()
  })

  it('refuses a safety margin of half the TTL or more', () => {
    expect(() => lockWith({ ttlMs: 1_000, safetyMarginMs: 500 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
    expect(() => lockWith({ ttlMs: 1_000, safetyMarginMs: 499 })).not.toThrow()
  })

  it('takes 30 s leases with a 2 s margin by default', async () => {
    const lease = await acquire()
    expect(fake.of('ACQUIRE')[0]!.args[1]).toBe('30000')
    expect(lease.deadline()).toBe(T0 + 30_000 - 2_000)
  })

  it('takes a fifth of a short TTL as the default margin (5 s: 1 s; 100 ms: 20 ms)', async () => {
    expect((await acquire({ ttlMs: 5_000 })).deadline()).toBe(T0 + 4_000)
    fake.holders.clear()
    expect((await acquire({ ttlMs: 100 })).deadline()).toBe(T0 + 80)
  })

  it('names its keys after a hash of the token, under the server hash tag', () => {
    const keys = lockWith().keys
    expect(keys.lock).toBe(LOCK_KEY)
    expect(keys.fence).toBe(`${LOCK_KEY}:fence`)
    expect(keys.epoch).toBe(`${LOCK_KEY}:epoch`)
    expect(keys.globalEpoch).toBe('wcs:global:lock-epoch')
    expect(keys.state('watermark')).toBe('wcs:{0010}:state:watermark')
    // A secret that reveals the token names the same lock as the token itself.
    expect(lockWith({ token: { reveal: () => TOKEN } }).keys.lock).toBe(LOCK_KEY)
    expect(lockWith({ token: 'another-token' }).keys.lock).not.toBe(LOCK_KEY)
  })

  it('never sends the token itself to Redis, in a key or an argument', async () => {
    const lease = await acquire({ replicas: 1 })
    await lease.fencedSet('watermark', '1')
    await lease.readState('watermark')
    await lease.release()
    const sent = JSON.stringify(fake.calls)
    expect(sent).toContain(TOKEN_HASH)
    expect(sent).not.toContain(TOKEN)
  })
})

describe('markRedisInitialised', () => {
  it('writes the Redis-wide epoch "new" only when it is missing', async () => {
    const redis = fake as unknown as Redis
    expect(await markRedisInitialised(redis)).toBe(true)
    expect(fake.strings.get('wcs:global:lock-epoch')).toBe('new')
    expect(await markRedisInitialised(redis)).toBe(false)
  })

  it('says Redis is unavailable when it does not answer', async () => {
    const redis = { set: () => Promise.reject(connectionLost()) } as unknown as Redis
    await expect(markRedisInitialised(redis)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
  })
})

describe('tryAcquire', () => {
  it('reads the Redis-wide epoch, then asks for the lease with a fresh random value', async () => {
    fake.globalEpoch = '1764999999000'
    const lease = await acquire({ ttlMs: 3_000 })
    expect(fake.calls.map((call) => call.script)).toEqual(['GLOBAL_EPOCH', 'ACQUIRE'])
    expect(fake.calls[0]!.keys).toEqual(['wcs:global:lock-epoch'])
    expect(fake.calls[0]!.args).toEqual([])
    const acquireCall = fake.calls[1]!
    expect(acquireCall.keys).toEqual([LOCK_KEY, `${LOCK_KEY}:fence`, `${LOCK_KEY}:epoch`])
    const [value, ttl, epochId, globalEpoch] = acquireCall.args
    expect(value).toMatch(/^[0-9a-f]{32}$/)
    expect(ttl).toBe('3000')
    expect(epochId).toMatch(/^[0-9a-f]{16}$/)
    expect(globalEpoch).toBe('1764999999000')
    expect(lease.fence).toBe(1)
    // The next lease carries another value, and the next fence.
    await lease.release()
    const second = await acquire({ ttlMs: 3_000 })
    expect(fake.of('ACQUIRE')[1]!.args[0]).not.toBe(value)
    expect(second.fence).toBe(2)
  })

  it('passes on the epoch as text whatever type Redis answers it in, and reads the fence as a number', async () => {
    fake.next('GLOBAL_EPOCH', () => 1764999999000)
    fake.next('ACQUIRE', () => [1, '41'])
    const lease = await acquire()
    expect(fake.of('ACQUIRE')[0]!.args[3]).toBe('1764999999000')
    expect(lease.fence).toBe(41)
  })

  it('answers null when another holder has the lease', async () => {
    await acquire()
    expect(await lockWith().tryAcquire()).toBeNull()
  })

  it('says Redis is unavailable when a script gets no answer', async () => {
    fake.next('ACQUIRE', () => Promise.reject(connectionLost()))
    await expect(lockWith().tryAcquire()).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      message: 'Redis did not answer',
    })
    fake.next('GLOBAL_EPOCH', () => Promise.reject(connectionLost()))
    await expect(lockWith().tryAcquire()).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
  })

  it('sends no WAIT when no replica is asked for', async () => {
    await acquire()
    expect(fake.of('ACQUIRE')[0]!.wait).toBeUndefined()
  })

  it('waits for the replicas asked, 1 s by default, and counts a lease they all have', async () => {
    const lease = await acquire({ replicas: 2 })
    expect(fake.of('ACQUIRE')[0]!.wait).toEqual(['2', '1000'])
    expect(lease.fence).toBe(1)
    fake.holders.clear()
    await acquire({ replicas: 1, replicaWaitMs: 250 })
    expect(fake.of('ACQUIRE')[1]!.wait).toEqual(['1', '250'])
  })

  it('gives back a lease that fewer replicas than asked have, and answers busy', async () => {
    const { events, hooks } = hookSpies()
    fake.waitAcks = 1
    expect(await lockWith({ replicas: 2, hooks }).tryAcquire()).toBeNull()
    const granted = fake.of('ACQUIRE')[0]!.args[0]
    expect(fake.of('RELEASE').map((call) => [call.keys, call.args])).toEqual([
      [[LOCK_KEY], [granted]],
    ])
    expect(fake.holders.size).toBe(0)
    expect(events).toEqual([['unreplicated', { what: 'lease' }]])
    // Waiting for it, a caller out of time hears plain "busy" (not quarantine).
    const controller = new AbortController()
    controller.abort()
    const waited = await lockWith({ replicas: 2 }).withLock(
      { waitMs: 60_000, signal: controller.signal },
      () => Promise.resolve('never'),
    )
    expect(waited).toStrictEqual({ status: 'busy', waitMs: 0, reason: 'busy' })
    // Exactly as many replicas as asked is enough.
    fake.waitAcks = 2
    const granted2 = await lockWith({ replicas: 2 }).tryAcquire()
    expect(granted2).not.toBeNull()
    made.push(granted2!)
  })

  it('counts a lease as not replicated when WAIT itself fails', async () => {
    fake.waitAcks = new Error('ERR WAIT cannot be used with replica instances')
    expect(await lockWith({ replicas: 1 }).tryAcquire()).toBeNull()
    expect(fake.of('RELEASE')).toHaveLength(1)
  })

  it('reports the script error of a pipeline, and a pipeline with no answer', async () => {
    fake.next('ACQUIRE', () => {
      const error = new Error('NOSCRIPT No matching script')
      error.name = 'ReplyError'
      return Promise.reject(error)
    })
    await expect(lockWith({ replicas: 1 }).tryAcquire()).rejects.toMatchObject({
      code: 'REDIS_COMMAND_FAILED',
      message: 'Redis rejected a command (NOSCRIPT)',
    })
    const broken = Object.assign(Object.create(fake) as FakeRedis, {
      pipeline: () => ({
        eval: () => ({ call: () => ({ exec: () => Promise.reject(connectionLost()) }) }),
      }),
    })
    await expect(lockWith({ replicas: 1 }, broken).tryAcquire()).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    })
  })

  it('on a cluster, waits for no more replicas than the master of the slot has', async () => {
    const clusterOf = (owners: string[]) =>
      Object.assign(Object.create(Cluster.prototype) as object, {
        slots: Array.from({ length: 16_384 }, () => owners),
        eval: fake.eval.bind(fake),
        pipeline: fake.pipeline.bind(fake),
      })
    const onePlusOne = await lockWith(
      { replicas: 2 },
      clusterOf(['10.0.0.1:6379', '10.0.0.2:6379']),
    ).tryAcquire()
    made.push(onePlusOne!)
    expect(fake.of('ACQUIRE')[0]!.wait).toEqual(['1', '1000'])
    fake.holders.clear()
    // A master with no replica (just promoted): nothing to wait for, nothing promotion can lose.
    const alone = await lockWith({ replicas: 2 }, clusterOf(['10.0.0.1:6379'])).tryAcquire()
    made.push(alone!)
    expect(alone).not.toBeNull()
    expect(fake.of('ACQUIRE')[1]!.wait).toBeUndefined()
  })
})

describe('a lease', () => {
  it('ends its deadline one margin before a TTL counted from when the acquire was sent', async () => {
    fake.acquireTakesMs = 300
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, hooks })
    // Sent at T0, granted at T0 + 300: the server's expiry is at most T0 + 3 000.
    expect(lease.deadline()).toBe(T0 + 3_000 - 600)
    await vi.advanceTimersByTimeAsync(200)
    await lease.release()
    // Held from the grant: 200 ms, not 500.
    expect(events).toEqual([['released', { heldMs: 200, kept: false }]])
  })

  it('aborts its signal at the deadline when renewal gets no answer', async () => {
    const { events, hooks } = hookSpies()
    // The renewals at 1 s and 2 s hang.
    for (let i = 0; i < 2; i++) fake.next('EXTEND', () => new Promise(() => undefined))
    const lease = await acquire({ ttlMs: 3_000, hooks })
    await vi.advanceTimersByTimeAsync(2_399)
    expect(lease.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(lease.signal.aborted).toBe(true)
    expect(abortReason(lease.signal)).toEqual({
      code: 'LOCK_LEASE_LOST',
      message: 'The token lease was expired',
      details: { reason: 'expired' },
    })
    expect(events).toEqual([['lost', { reason: 'expired' }]])
  })

  it('is aborted at once when the acquire took the whole lease', async () => {
    fake.acquireTakesMs = 2_400
    const lease = await acquire({ ttlMs: 3_000 })
    expect(lease.signal.aborted).toBe(true)
    expect(abortReason(lease.signal).details).toEqual({ reason: 'expired' })
  })

  it('renews every third of the TTL, moving the deadline to a TTL after each renewal was sent', async () => {
    const lease = await acquire({ ttlMs: 3_000 })
    await vi.advanceTimersByTimeAsync(999)
    expect(fake.of('EXTEND')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.of('EXTEND').map((call) => [call.keys, call.args, call.at])).toEqual([
      [[LOCK_KEY], [fake.of('ACQUIRE')[0]!.args[0], '3000'], T0 + 1_000],
    ])
    expect(lease.deadline()).toBe(T0 + 1_000 + 3_000 - 600)
    // Long work stays covered: renewed at 2 s, 3 s, 4 s... and never aborted.
    await vi.advanceTimersByTimeAsync(9_000)
    expect(fake.of('EXTEND')).toHaveLength(10)
    expect(lease.signal.aborted).toBe(false)
    expect(lease.deadline()).toBe(T0 + 10_000 + 3_000 - 600)
  })

  it('renews at least every 50 ms, however short the TTL', async () => {
    await acquire({ ttlMs: 100 })
    await vi.advanceTimersByTimeAsync(49)
    expect(fake.of('EXTEND')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.of('EXTEND')).toHaveLength(1)
  })

  it('aborts as lost when renewal finds the lease gone, and says so once', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, hooks })
    fake.holders.clear()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(abortReason(lease.signal)).toEqual({
      code: 'LOCK_LEASE_LOST',
      message: 'The token lease was lost',
      details: { reason: 'lost' },
    })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(events).toEqual([['lost', { reason: 'lost' }]])
    // Renewal stops once the signal has fired.
    expect(fake.of('EXTEND')).toHaveLength(1)
  })

  it('aborts as not confirmed when a renewal reaches fewer replicas than asked', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, replicas: 1, hooks })
    fake.waitAcks = 0
    await vi.advanceTimersByTimeAsync(1_000)
    expect(abortReason(lease.signal)).toEqual({
      code: 'LOCK_LEASE_LOST',
      message: 'The token lease was not confirmed',
      details: { reason: 'unconfirmed' },
    })
    expect(events).toEqual([
      ['unreplicated', { what: 'renewal' }],
      ['lost', { reason: 'unconfirmed' }],
    ])
  })

  it('aborts as not confirmed when renewal gets an error', async () => {
    const { events, hooks } = hookSpies()
    fake.next('EXTEND', () => Promise.reject(connectionLost()))
    const lease = await acquire({ ttlMs: 3_000, hooks })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lease.signal.aborted).toBe(true)
    expect(events).toEqual([['lost', { reason: 'unconfirmed' }]])
  })

  it('releases: deletes its own lease, fires its signal as released, and only once', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, hooks })
    const value = fake.of('ACQUIRE')[0]!.args[0]
    await vi.advanceTimersByTimeAsync(700)
    await lease.release()
    await lease.release()
    expect(fake.of('RELEASE').map((call) => [call.keys, call.args])).toEqual([
      [[LOCK_KEY], [value]],
    ])
    expect(fake.holders.size).toBe(0)
    expect(abortReason(lease.signal)).toEqual({
      code: 'LOCK_LEASE_LOST',
      message: 'The token lease was released',
      details: { reason: 'released' },
    })
    expect(events).toEqual([['released', { heldMs: 700, kept: false }]])
    // No renewal and no expiry after the release.
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fake.of('EXTEND')).toHaveLength(0)
    expect(events).toHaveLength(1)
  })

  it('keeps the lease for the upstream limit (60 s by default) after an abandoned call', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ hooks })
    lease.keepAfterAbortedCall()
    await lease.release()
    expect(fake.of('RELEASE')).toHaveLength(0)
    expect(fake.of('EXTEND').map((call) => call.args)).toEqual([
      [fake.of('ACQUIRE')[0]!.args[0], '60000'],
    ])
    expect(fake.holders.get(LOCK_KEY)?.expiresAt).toBe(T0 + 60_000)
    expect(events).toEqual([['released', { heldMs: 0, kept: true }]])
    fake.holders.clear()
    const custom = await acquire({ upstreamLimitMs: 5_000 })
    custom.keepAfterAbortedCall()
    await custom.release()
    expect(fake.of('EXTEND')[1]!.args[1]).toBe('5000')
  })

  it('keeps the lease after its signal fired, even without being told of a call', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, hooks })
    fake.holders.clear()
    await vi.advanceTimersByTimeAsync(1_000)
    await lease.release()
    expect(events.at(-1)).toEqual(['released', { heldMs: 1_000, kept: true }])
    expect(fake.of('EXTEND').at(-1)!.args[1]).toBe('60000')
  })

  it('still reports the release when Redis does not answer it', async () => {
    const { events, hooks } = hookSpies()
    fake.next('RELEASE', () => Promise.reject(connectionLost()))
    const lease = await acquire({ hooks })
    await expect(lease.release()).resolves.toBeUndefined()
    expect(events).toEqual([['released', { heldMs: 0, kept: false }]])
  })

  it('writes state under its fence and reads it back', async () => {
    const lease = await acquire()
    expect(await lease.fencedSet('watermark', '1765000000000')).toStrictEqual({ ok: true })
    const call = fake.of('FENCED_SET')[0]!
    expect(call.keys).toEqual([LOCK_KEY, 'wcs:{0010}:state:watermark'])
    expect(call.args).toEqual([fake.of('ACQUIRE')[0]!.args[0], '1', '1765000000000', ''])
    expect(await lease.readState('watermark')).toBe('1765000000000')
    expect(await lockWith().readState('watermark')).toBe('1765000000000')
    expect(await lease.readState('other')).toBeNull()
    // A compare-and-set sends the expected value.
    expect(await lease.fencedSet('watermark', '2', '1765000000000')).toStrictEqual({ ok: true })
    expect(fake.of('FENCED_SET')[1]!.args[3]).toBe('1765000000000')
  })

  it('tells each refused write apart: lease lost, newer fence, other value', async () => {
    const lease = await acquire()
    await lease.fencedSet('watermark', 'a')
    expect(await lease.fencedSet('watermark', 'b', 'x')).toStrictEqual({
      ok: false,
      reason: 'conflict',
      current: 'a',
    })
    fake.state.set('wcs:{0010}:state:watermark', { value: 'n', fence: 9 })
    expect(await lease.fencedSet('watermark', 'b')).toStrictEqual({
      ok: false,
      reason: 'stale_fence',
      current: '9',
    })
    fake.holders.clear()
    expect(await lease.fencedSet('watermark', 'b')).toStrictEqual({
      ok: false,
      reason: 'lease_lost',
    })
  })

  it('refuses to count a write that fewer replicas than asked have', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ replicas: 1, replicaWaitMs: 400, hooks })
    fake.waitAcks = 0
    const write = lease.fencedSet('watermark', '5')
    await expect(write).rejects.toBeInstanceOf(AppError)
    await expect(write).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      message:
        'The watermark write reached fewer than 1 Redis replica(s) within 400 ms; it is not counted on',
      details: { replicas: 1, waitMs: 400 },
    })
    expect(events).toEqual([['unreplicated', { what: 'write' }]])
    // A refused write is not a replication problem.
    fake.holders.clear()
    expect(await lease.fencedSet('watermark', '5')).toStrictEqual({
      ok: false,
      reason: 'lease_lost',
    })
    expect(events).toHaveLength(1)
  })

  it('says Redis is unavailable when a state read gets no answer', async () => {
    const broken = Object.assign(Object.create(fake) as FakeRedis, {
      hget: () => Promise.reject(connectionLost()),
    })
    await expect(lockWith({}, broken).readState('watermark')).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    })
  })
})

describe('survivors of the first mutation run', () => {
  it('takes its clock from Date.now when given none', async () => {
    fake.acquireTakesMs = 300
    const handle = await createTokenLock({
      redis: fake as unknown as Redis,
      server: '0010',
      token: TOKEN,
      ttlMs: 3_000,
    }).tryAcquire()
    made.push(handle!)
    expect(handle!.deadline()).toBe(T0 + 2_400)
  })

  it('reads a busy answer as busy even when WAIT came back short', async () => {
    const { events, hooks } = hookSpies()
    await acquire()
    fake.waitAcks = 0
    expect(await lockWith({ replicas: 1, hooks }).tryAcquire()).toBeNull()
    expect(events).toEqual([])
    expect(fake.of('RELEASE')).toHaveLength(0)
  })

  it('reads a renewal that found the lease gone as lost, whatever WAIT says', async () => {
    const { events, hooks } = hookSpies()
    const lease = await acquire({ ttlMs: 3_000, replicas: 1, hooks })
    fake.holders.clear()
    fake.waitAcks = 0
    await vi.advanceTimersByTimeAsync(1_000)
    expect(abortReason(lease.signal).details).toEqual({ reason: 'lost' })
    expect(events).toEqual([['lost', { reason: 'lost' }]])
  })

  it('retries an unreplicated lease as busy after the replica wait', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.75)
    fake.waitAcks = 0
    const outcome = lockWith({ replicas: 1, replicaWaitMs: 100 }).withLock({ waitMs: 1_000 }, () =>
      Promise.resolve('never'),
    )
    await vi.advanceTimersByTimeAsync(100)
    fake.waitAcks = 1
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await outcome).toMatchObject({ status: 'done', value: 'never' })
    // Three short leases, given back: pauses of 30, 60, then 120 capped at the replica wait + 5.
    expect(fake.of('ACQUIRE').map((call) => call.at - T0)).toEqual([0, 30, 90, 195])
  })

  it('needs no hooks: an unreplicated write and a quarantine still say what happened', async () => {
    const lease = await acquire({ replicas: 1 })
    fake.waitAcks = 0
    await expect(lease.fencedSet('watermark', '1')).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    })
    fake.holders.clear()
    fake.waitAcks = Number.NaN
    fake.next('ACQUIRE', () => [0, 'quarantine', 4_000])
    expect(await lockWith().withLock({ waitMs: 0 }, () => Promise.resolve(1))).toStrictEqual({
      status: 'busy',
      waitMs: 0,
      reason: 'quarantine',
    })
  })
})

describe('withLock', () => {
  it('runs the work with the lease, then releases it', async () => {
    const { events, hooks } = hookSpies()
    const lock = lockWith({ ttlMs: 3_000, hooks })
    const seen: { aborted: boolean; fence: number; same: boolean }[] = []
    const result = await lock.withLock({ waitMs: 1_000 }, async (signal, fence, lease) => {
      seen.push({ aborted: signal.aborted, fence, same: lease.signal === signal })
      await vi.advanceTimersByTimeAsync(700)
      return 'done-value'
    })
    expect(result).toStrictEqual({
      status: 'done',
      value: 'done-value',
      fence: 1,
      waitMs: 0,
      heldMs: 700,
    })
    expect(seen).toEqual([{ aborted: false, fence: 1, same: true }])
    expect(fake.of('RELEASE')).toHaveLength(1)
    expect(events).toEqual([
      ['acquired', { waitMs: 0, contended: false }],
      ['released', { heldMs: 700, kept: false }],
    ])
  })

  it('releases the lease when the work throws, and passes the error on', async () => {
    const lock = lockWith()
    const failure = new Error('work failed')
    await expect(lock.withLock({ waitMs: 0 }, () => Promise.reject(failure))).rejects.toBe(failure)
    expect(fake.of('RELEASE')).toHaveLength(1)
    expect(fake.holders.size).toBe(0)
  })

  it('keeps the lease when the work throws after its signal fired', async () => {
    const { events, hooks } = hookSpies()
    const lock = lockWith({ ttlMs: 3_000, hooks })
    const outcome = lock.withLock({ waitMs: 0 }, async (signal) => {
      fake.holders.clear()
      await vi.advanceTimersByTimeAsync(1_000)
      throw signal.reason
    })
    await expect(outcome).rejects.toMatchObject({ code: 'LOCK_LEASE_LOST' })
    expect(fake.of('RELEASE')).toHaveLength(0)
    expect(events.at(-1)).toEqual(['released', { heldMs: 1_000, kept: true }])
  })

  it('tries again with a growing jittered pause, capped by the wait left, then answers busy', async () => {
    const { events, hooks } = hookSpies()
    await acquire()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const outcome = lockWith({ hooks }).withLock({ waitMs: 300 }, () => Promise.resolve('never'))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await outcome).toStrictEqual({ status: 'busy', waitMs: 300, reason: 'busy' })
    // Pauses of half of 40, 80, 160 ms, then the 160 ms left of the wait.
    expect(fake.of('ACQUIRE').map((call) => call.at - T0)).toEqual([0, 0, 20, 60, 140, 300])
    expect(events).toEqual([['busy', { waitMs: 300, reason: 'busy' }]])
  })

  it('caps the pause at 1 s, and waits at least 5 ms', async () => {
    await acquire()
    vi.spyOn(Math, 'random').mockReturnValue(0.75)
    const slow = lockWith().withLock({ waitMs: 3_000 }, () => Promise.resolve('never'))
    await vi.advanceTimersByTimeAsync(4_000)
    await slow
    // 0.75 of 40, 80, 160, 320, 640, then of 1 000 (not of 1 280).
    expect(fake.of('ACQUIRE').map((call) => call.at - T0)).toEqual([
      0, 0, 30, 90, 210, 450, 930, 1_680, 2_430, 3_000,
    ])
    fake.calls.length = 0
    vi.mocked(Math.random).mockReturnValue(0)
    const quick = lockWith().withLock({ waitMs: 12 }, () => Promise.resolve('never'))
    await vi.advanceTimersByTimeAsync(100)
    await quick
    expect(fake.of('ACQUIRE').map((call) => call.at - T0 - 4_000)).toEqual([0, 5, 10, 12])
  })

  it('tries again just after the holder lease ends, when that is sooner', async () => {
    const holder = await acquire({ ttlMs: 3_000 })
    expect(holder.fence).toBe(1)
    vi.spyOn(Math, 'random').mockReturnValue(0.75)
    // The holder's lease ends at T0 + 100 (as if it had stopped renewing).
    fake.holders.get(LOCK_KEY)!.expiresAt = T0 + 100
    const outcome = lockWith().withLock({ waitMs: 1_000 }, () => Promise.resolve('got it'))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await outcome).toMatchObject({ status: 'done', value: 'got it', fence: 2 })
    // 30 ms, 60 ms, then 120 ms capped at the 10 ms left of the lease + 5 ms: 15 ms.
    expect(fake.of('ACQUIRE').map((call) => call.at - T0)).toEqual([0, 0, 30, 90, 105])
  })

  it('pauses by the jitter alone when Redis gives no time left for the holder', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.75)
    for (let i = 0; i < 3; i++) fake.next('ACQUIRE', () => [0, 'busy', 0])
    fake.next('ACQUIRE', () => [0, 'busy', -1])
    fake.next('ACQUIRE', () => [0, 'busy'])
    const outcome = lockWith().withLock({ waitMs: 2_000 }, () => Promise.resolve('ok'))
    await vi.advanceTimersByTimeAsync(2_000)
    expect(await outcome).toMatchObject({ status: 'done', waitMs: 930 })
    expect(fake.of('ACQUIRE').map((call) => call.at - T0)).toEqual([0, 30, 90, 210, 450, 930])
  })

  it('counts the wait, and says the lease was contended, when it came after a busy try', async () => {
    const { events, hooks } = hookSpies()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    fake.next('ACQUIRE', () => [0, 'busy', 5_000])
    const result = await (async () => {
      const outcome = lockWith({ hooks }).withLock({ waitMs: 1_000 }, () => {
        vi.setSystemTime(Date.now() + 50)
        return Promise.resolve(1)
      })
      await vi.advanceTimersByTimeAsync(20)
      return outcome
    })()
    expect(result).toStrictEqual({ status: 'done', value: 1, fence: 1, waitMs: 20, heldMs: 50 })
    expect(events[0]).toEqual(['acquired', { waitMs: 20, contended: true }])
  })

  it('says once why it is held back when Redis lost its data, and answers quarantine', async () => {
    const { events, hooks } = hookSpies()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    for (let i = 0; i < 10; i++) fake.next('ACQUIRE', () => [0, 'quarantine', 4_000])
    const outcome = lockWith({ ttlMs: 5_000, hooks }).withLock({ waitMs: 100 }, () =>
      Promise.resolve('never'),
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(await outcome).toStrictEqual({ status: 'busy', waitMs: 100, reason: 'quarantine' })
    expect(events).toEqual([
      ['quarantine', { waitMs: 4_000, ttlMs: 5_000 }],
      ['busy', { waitMs: 100, reason: 'quarantine' }],
    ])
  })

  it('gives up after one try when its caller has aborted', async () => {
    await acquire()
    const controller = new AbortController()
    controller.abort()
    const result = await lockWith().withLock({ waitMs: 60_000, signal: controller.signal }, () =>
      Promise.resolve('never'),
    )
    expect(result).toStrictEqual({ status: 'busy', waitMs: 0, reason: 'busy' })
    expect(fake.of('ACQUIRE')).toHaveLength(2)
  })
})
