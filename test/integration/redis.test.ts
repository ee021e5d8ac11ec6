import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createRedis, pingRedis } from '@wolkvox-chat-stream/redis'
import { uniqueName } from '../support/wait-for.js'

describe('the private redis-server', () => {
  const url = inject('redisUrl')
  let redis: ReturnType<typeof createRedis>

  beforeAll(() => {
    redis = createRedis(url, { name: 'foundation-test' })
  })

  afterAll(async () => {
    await redis.quit()
  })

  it('is a server of this run, not the machine-wide one on 6379', () => {
    expect(new URL(url).port).not.toBe('6379')
  })

  it('round-trips values, expiries and Lua scripts', async () => {
    const key = uniqueName('roundtrip')
    await redis.set(key, 'olá 👋', 'PX', 60_000)
    expect(await redis.get(key)).toBe('olá 👋')
    expect(await redis.pttl(key)).toBeGreaterThan(0)
    const result = await redis.eval(
      "return redis.call('INCRBY', KEYS[1], ARGV[1])",
      1,
      `${key}:n`,
      41,
    )
    expect(result).toBe(41)
    expect(await pingRedis(url, { timeoutMs: 1_000 })).toBe(true)
  })

  it('reports a Redis that does not answer', async () => {
    expect(await pingRedis('redis://127.0.0.1:1', { timeoutMs: 500 })).toBe(false)
  })
})
