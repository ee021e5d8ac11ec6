import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { formatDuration, parseDuration, readConfig, Secret } from './index.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 2m ', 120_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '5', '1.5s', '5 m', '-1s', '1w', '5m30s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(
      expect.objectContaining({ code: 'CONFIG_DURATION_INVALID' }),
    )
  })

  it('formats in the largest exact unit', () => {
    expect(formatDuration(300_000)).toBe('5m')
    expect(formatDuration(90_000)).toBe('90s')
    expect(formatDuration(1_500)).toBe('1500ms')
    expect(formatDuration(86_400_000)).toBe('1d')
  })
})

describe('Secret', () => {
  const canary = 'canary-token-4f9d1c'
  const secret = new Secret(canary)

  it('never prints its value', () => {
    const renderings = [
      String(secret),
      `${secret.toString()}`,
      JSON.stringify({ secret }),
      inspect(secret),
      inspect({ nested: { secret } }, { depth: 5 }),
      JSON.stringify({ ...secret }),
      Object.keys(secret).join(','),
    ]
    for (const text of renderings) expect(text).not.toContain(canary)
    expect(String(secret)).toBe('[redacted]')
  })

  it('reveals the value only on request', () => {
    expect(secret.reveal()).toBe(canary)
  })
})

describe('readConfig', () => {
  it('collects every problem into one CONFIG_INVALID error', () => {
    const env = { POLL_INTERVAL: '5 minutes', PORT: 'abc', FLAG: 'maybe', TOKEN: 'canary-xyz' }
    let caught: unknown
    try {
      readConfig(env, (r) => ({
        interval: r.durationMs('POLL_INTERVAL', '5m'),
        port: r.integer('PORT', 8081, { min: 1, max: 65535 }),
        flag: r.boolean('FLAG', true),
        brokers: r.required('KAFKA_BROKERS'),
        token: r.secret('TOKEN'),
      }))
    } catch (error) {
      caught = error
    }
    expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true)
    const message = (caught as Error).message
    expect(message).toContain('4 problems')
    for (const name of ['POLL_INTERVAL', 'PORT', 'FLAG', 'KAFKA_BROKERS'])
      expect(message).toContain(name)
    expect(message).not.toContain('canary-xyz')
  })

  it('returns a frozen configuration with defaults', () => {
    const config = readConfig({ LIST: 'a, b,,c' }, (r) => ({
      interval: r.durationMs('POLL_INTERVAL', '5m'),
      list: r.list('LIST', []),
      level: r.oneOf('LOG_LEVEL', ['debug', 'info'] as const, 'info'),
    }))
    expect(config).toEqual({ interval: 300_000, list: ['a', 'b', 'c'], level: 'info' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.list)).toBe(true)
  })
})
