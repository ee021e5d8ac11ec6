import { AppError } from '@wolkvox-chat-stream/errors'
import { describe, expect, it } from 'vitest'
import { createLogger, type LoggerOptions } from './logger.js'

function capture(options: Omit<LoggerOptions, 'stream'>) {
  const lines: string[] = []
  const logger = createLogger({ ...options, stream: { write: (chunk) => lines.push(chunk) } })
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, lines, records }
}

describe('createLogger', () => {
  it('writes one JSON line per record with the envelope first', () => {
    const { logger, lines, records } = capture({ name: 'collector' })
    logger.info('polled', { chats: 3 })
    expect(lines).toHaveLength(1)
    expect(lines[0]!.endsWith('}\n')).toBe(true)
    expect(Object.keys(records()[0]!)).toEqual(['time', 'level', 'name', 'msg', 'chats'])
    expect(records()[0]).toMatchObject({
      level: 'info',
      name: 'collector',
      msg: 'polled',
      chats: 3,
    })
    expect(new Date(records()[0]!.time as string).toISOString()).toBe(records()[0]!.time)
  })

  it('drops records below the level, info by default', () => {
    const { logger, records } = capture({ name: 'x' })
    logger.trace('t')
    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    logger.error('e')
    logger.fatal('f')
    expect(records().map((r) => r.level)).toEqual(['info', 'warn', 'error', 'fatal'])
    expect(logger.isLevelEnabled('debug')).toBe(false)

    const verbose = capture({ name: 'x', level: 'trace' })
    verbose.logger.trace('t')
    expect(verbose.records()[0]!.level).toBe('trace')

    const silent = capture({ name: 'x', level: 'silent' })
    silent.logger.fatal('f')
    expect(silent.lines).toEqual([])
  })

  it('rejects an unknown level', () => {
    expect(() => createLogger({ name: 'x', level: 'verbose' as 'info' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
  })

  it('merges base and child fields, the call site winning, the envelope untouchable', () => {
    const { logger, records } = capture({ name: 'svc', base: { service: 'svc', a: 1 } })
    const child = logger.child({ server: '0010', a: 2 })
    child.warn('lagging', { a: 3, level: 'fatal', msg: 'spoofed' })
    logger.info('parent')
    expect(records()[0]).toMatchObject({
      level: 'warn',
      msg: 'lagging',
      service: 'svc',
      server: '0010',
      a: 3,
    })
    expect(records()[1]).not.toHaveProperty('server')
    expect(child.name).toBe('svc')
  })

  it('serialises err with its code and cause chain, and errors in other fields too', () => {
    const { logger, records } = capture({ name: 'x' })
    const err = new AppError('REDIS_UNAVAILABLE', 'down', { cause: new Error('ECONNREFUSED') })
    logger.error('failed', { err, other: new TypeError('nope') })
    expect(records()[0]).toMatchObject({
      err: {
        code: 'REDIS_UNAVAILABLE',
        message: 'down',
        retriable: true,
        cause: { name: 'Error', message: 'ECONNREFUSED' },
      },
      other: { name: 'TypeError', message: 'nope' },
    })
  })

  it('prints values through their toJSON, and survives bigints and cycles', () => {
    const secret = { toJSON: () => '[redacted]' }
    const { logger, records } = capture({ name: 'x' })
    logger.info('cfg', { token: secret, offset: 12n })
    expect(records()[0]).toMatchObject({ token: '[redacted]', offset: '12' })

    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    logger.info('cyclic', { cyclic })
    expect(records()[1]).toMatchObject({ msg: 'cyclic', level: 'info' })
    expect(records()[1]!.logError).toMatch(/could not be serialised/)
  })
})
