import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { pingRedis, redisOptions } from './client.js'

describe('redisOptions', () => {
  const url = 'redis://app:pw@127.0.0.1:6390/1'

  it('connects eagerly and retries a few times by default', () => {
    const options = redisOptions(url)
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      username: 'app',
      password: 'pw',
      db: 1,
      lazyConnect: false,
      maxRetriesPerRequest: 3,
      connectionName: 'wcs-default',
    })
    expect(options.enableOfflineQueue).not.toBe(false)
    expect(options.tls).toBeUndefined()
    expect(options.commandTimeout).toBeUndefined()
  })

  it('never queues or replays lock commands', () => {
    expect(redisOptions(url, { role: 'lock', name: 'collector lock' })).toMatchObject({
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectionName: 'collector_lock',
    })
    expect(redisOptions(url, { role: 'lock', lockCommandTimeoutMs: 500 }).commandTimeout).toBe(500)
  })

  it('lets blocking (BullMQ) commands wait', () => {
    const options = redisOptions(url, { role: 'blocking' })
    expect(options.maxRetriesPerRequest).toBeNull()
    expect(options.commandTimeout).toBeUndefined()
  })

  it('turns on TLS for rediss://', () => {
    expect(redisOptions('rediss://host').tls).toEqual({})
  })

  it('backs off up to 5s and reconnects on READONLY only', () => {
    const options = redisOptions(url)
    expect(options.retryStrategy?.(1)).toBe(200)
    expect(options.retryStrategy?.(1000)).toBe(5000)
    expect(options.reconnectOnError?.(new Error('READONLY You can not write'))).toBe(true)
    expect(options.reconnectOnError?.(new Error('WRONGTYPE'))).toBe(false)
  })

  it('validates the URL', () => {
    expect(() => redisOptions('http://x')).toThrow(
      expect.objectContaining({ code: 'REDIS_URL_INVALID' }),
    )
  })
})

describe('pingRedis', () => {
  it('is false, not a throw, for an invalid URL', async () => {
    await expect(pingRedis('nope')).resolves.toBe(false)
  })

  it('is false when nothing listens', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise((resolve) => server.close(resolve))
    await expect(pingRedis(`redis://127.0.0.1:${port}`, { timeoutMs: 2000 })).resolves.toBe(false)
  })

  it('is false within the timeout when the server never answers', async () => {
    // Accepts the connection but never replies, like a wedged server.
    const server = createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const started = Date.now()
    try {
      await expect(pingRedis(`redis://127.0.0.1:${port}`, { timeoutMs: 200 })).resolves.toBe(false)
      expect(Date.now() - started).toBeLessThan(1500)
    } finally {
      server.close()
    }
  })
})
