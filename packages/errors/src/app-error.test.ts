import { describe, expect, it } from 'vitest'
import { AppError, isAppError, isRetriable, serializeError } from './app-error.js'

describe('AppError', () => {
  it('takes retriable from the registry unless overridden', () => {
    expect(new AppError('REDIS_UNAVAILABLE', 'down').retriable).toBe(true)
    expect(new AppError('CONFIG_INVALID', 'bad').retriable).toBe(false)
    expect(new AppError('CONFIG_INVALID', 'bad', { retriable: true }).retriable).toBe(true)
  })

  it('keeps the cause chain and serialises it for logs', () => {
    const root = Object.assign(new Error('ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })
    const err = new AppError('REDIS_UNAVAILABLE', 'Redis did not answer', {
      cause: root,
      details: { url: 'redis://127.0.0.1:6379' },
    })
    expect(err.cause).toBe(root)
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'AppError',
      code: 'REDIS_UNAVAILABLE',
      message: 'Redis did not answer',
      retriable: true,
      details: { url: 'redis://127.0.0.1:6379' },
      cause: { name: 'Error', message: 'ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' },
    })
  })

  it('classifies unknown errors as not retriable', () => {
    expect(isRetriable(new Error('boom'))).toBe(false)
    expect(isRetriable('boom')).toBe(false)
    expect(isAppError(new AppError('KAFKA_UNAVAILABLE', 'x'), 'KAFKA_UNAVAILABLE')).toBe(true)
    expect(isAppError(new AppError('KAFKA_UNAVAILABLE', 'x'), 'CONFIG_INVALID')).toBe(false)
  })

  it('serialises a cause that has no prototype (as test runners pass them)', () => {
    const bare = Object.assign(Object.create(null) as object, { reason: 'x' })
    expect(serializeError(bare)).toEqual({ message: '{"reason":"x"}' })
  })

  it('bounds a cyclic cause chain', () => {
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    ;(a as { cause?: unknown }).cause = b
    expect(JSON.stringify(serializeError(a))).toContain('[cause chain truncated]')
  })
})
