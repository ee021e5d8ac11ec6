import { AppError } from '@wolkvox-chat-stream/errors'
import { describe, expect, it } from 'vitest'
import { toRedisError } from './redis-error.js'

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' })

describe('toRedisError', () => {
  it('maps connection failures to retriable REDIS_UNAVAILABLE, keeping the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), {
      code: 'ECONNREFUSED',
    })
    const error = toRedisError(cause)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'REDIS_UNAVAILABLE', retriable: true, cause })
    expect(toRedisError(new Error('Command timed out')).code).toBe('REDIS_UNAVAILABLE')
    expect(toRedisError('weird').code).toBe('REDIS_UNAVAILABLE')
  })

  it('treats transient replies as unavailable and other replies as command failures', () => {
    expect(toRedisError(reply('LOADING Redis is loading')).code).toBe('REDIS_UNAVAILABLE')
    expect(toRedisError(reply('READONLY You cannot write')).code).toBe('REDIS_UNAVAILABLE')
    const wrongType = toRedisError(reply('WRONGTYPE Operation against a key'))
    expect(wrongType).toMatchObject({ code: 'REDIS_COMMAND_FAILED', retriable: false })
    expect(wrongType.message).toContain('WRONGTYPE')
  })

  it('treats a cluster pipeline across slots as a bug, not an outage', () => {
    const error = new Error(
      'All keys in the pipeline should belong to the same slots allocation group',
    )
    expect(toRedisError(error)).toMatchObject({ code: 'REDIS_COMMAND_FAILED', retriable: false })
  })

  it('returns an AppError unchanged', () => {
    const error = new AppError('REDIS_KEY_INVALID', 'bad')
    expect(toRedisError(error)).toBe(error)
  })
})
