import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { backoffMs, retrying, Stopped } from './retry.js'

const fast = { maxBackoffMs: 5, initialBackoffMs: 1 }

describe('retrying', () => {
  it('retries retriable failures until success, telling each pause', async () => {
    let calls = 0
    const pauses: string[] = []
    const value = await retrying(
      () => {
        calls++
        if (calls < 3) throw new AppError('REDIS_UNAVAILABLE', 'away')
        return Promise.resolve('ok')
      },
      { ...fast, signal: new AbortController().signal, onRetry: (e) => pauses.push(e.code) },
    )
    expect(value).toBe('ok')
    expect(pauses).toEqual(['REDIS_UNAVAILABLE', 'REDIS_UNAVAILABLE'])
  })

  it('throws a non-retriable failure at once', async () => {
    let calls = 0
    await expect(
      retrying(
        () => {
          calls++
          throw new AppError('REDIS_COMMAND_FAILED', 'no')
        },
        { ...fast, signal: new AbortController().signal },
      ),
    ).rejects.toMatchObject({ code: 'REDIS_COMMAND_FAILED' })
    expect(calls).toBe(1)
  })

  it('stops when its signal aborts', async () => {
    const abort = new AbortController()
    const run = retrying(
      () => {
        abort.abort()
        throw new AppError('KAFKA_UNAVAILABLE', 'away')
      },
      { ...fast, signal: abort.signal },
    )
    await expect(run).rejects.toBeInstanceOf(Stopped)
  })

  it('backs off exponentially with jitter, up to the cap', () => {
    expect(backoffMs(1, 200, 5_000, () => 1)).toBe(200)
    expect(backoffMs(3, 200, 5_000, () => 0)).toBe(400)
    expect(backoffMs(20, 200, 5_000, () => 1)).toBe(5_000)
  })
})
