import { describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { ensureEpoch } from './epoch.js'

// Just enough of GET and SET NX; the real thing is covered by the integration tests.
function fakeRedis(store = new Map<string, string>()) {
  return {
    store,
    get: (key: string) => Promise.resolve(store.get(key) ?? null),
    set: (key: string, value: string, mode: 'NX') => {
      expect(mode).toBe('NX')
      if (store.has(key)) return Promise.resolve(null)
      store.set(key, value)
      return Promise.resolve('OK')
    },
  }
}

describe('ensureEpoch', () => {
  it('creates the epoch once, then reads it back', async () => {
    const redis = fakeRedis()
    const first = await ensureEpoch(redis as unknown as Redis)
    expect(first.created).toBe(true)
    expect(redis.store.get('wcs:global:epoch')).toBe(first.epoch)
    expect(await ensureEpoch(redis as unknown as Redis)).toEqual({
      epoch: first.epoch,
      created: false,
    })
  })

  it('keeps one epoch per scope in that server’s slot', async () => {
    const redis = fakeRedis()
    const scoped = await ensureEpoch(redis as unknown as Redis, '0010')
    expect(redis.store.get('wcs:{0010}:epoch')).toBe(scoped.epoch)
  })

  it('reports a lost key as a new epoch', async () => {
    const redis = fakeRedis()
    const before = await ensureEpoch(redis as unknown as Redis)
    redis.store.clear()
    const after = await ensureEpoch(redis as unknown as Redis)
    expect(after.created).toBe(true)
    expect(after.epoch).not.toBe(before.epoch)
  })

  it('maps failures with toRedisError', async () => {
    const broken = { get: () => Promise.reject(new Error('Connection is closed.')) }
    await expect(ensureEpoch(broken as unknown as Redis)).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    })
  })
})
