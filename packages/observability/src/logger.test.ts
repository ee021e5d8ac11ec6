import { AppError } from '@wolkvox-chat-stream/errors'
import { describe, expect, it } from 'vitest'
import { createLogger, formatHumanLine, logFormatFromEnv, type LoggerOptions } from './logger.js'

function capture(options: Omit<LoggerOptions, 'stream'>, isTTY?: boolean) {
  const lines: string[] = []
  const logger = createLogger({
    ...options,
    stream: { write: (chunk) => lines.push(chunk), ...(isTTY === undefined ? {} : { isTTY }) },
  })
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

/** A record at 09:05:07 local time. */
const at = new Date(2026, 11, 6, 9, 5, 7).toISOString()

describe('formatHumanLine', () => {
  it('prints level, local time, name, message and the fields as key=value', () => {
    expect(
      formatHumanLine({
        time: at,
        level: 'info',
        name: 'poller',
        msg: 'window polled',
        server: '0010',
        published: 12,
        ok: true,
        empty: null,
      }),
    ).toBe('INFO  09:05:07 poller: window polled  server=0010 published=12 ok=true empty=null')
    expect(formatHumanLine({ time: at, level: 'error', name: 'p', msg: 'x' })).toBe(
      'ERROR 09:05:07 p: x',
    )
  })

  it('quotes text with spaces, prints objects as compact JSON and cuts long values', () => {
    expect(
      formatHumanLine({
        time: at,
        level: 'warn',
        name: 'p',
        msg: 'm',
        reason: 'a b',
        eq: 'k=v',
        window: { from: 'a', to: 'b' },
        long: 'x'.repeat(100),
        missing: undefined,
      }),
    ).toBe(
      `WARN  09:05:07 p: m  reason="a b" eq="k=v" window={"from":"a","to":"b"} long=${'x'.repeat(79)}…`,
    )
  })

  it('prints an error as its code and message, with its cause', () => {
    const line = formatHumanLine({
      time: at,
      level: 'error',
      name: 'poller',
      msg: 'window failed',
      err: {
        code: 'KAFKA_UNAVAILABLE',
        message: 'Sending failed',
        retriable: true,
        details: { topic: 't' },
        cause: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9092' },
      },
    })
    expect(line).toBe(
      'ERROR 09:05:07 poller: window failed  err="KAFKA_UNAVAILABLE: Sending failed; cause: connect ECONNREFUSED 127.0.0.1:9092"',
    )
    expect(
      formatHumanLine({
        time: at,
        level: 'warn',
        name: 'p',
        msg: 'm',
        err: { name: 'TypeError', message: 'nope' },
      }),
    ).toBe('WARN  09:05:07 p: m  err="TypeError: nope"')
  })

  it('shows six fields and counts the others', () => {
    const fields = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`f${i}`, i]))
    expect(formatHumanLine({ time: at, level: 'info', name: 'p', msg: 'm', ...fields })).toBe(
      'INFO  09:05:07 p: m  f0=0 f1=1 f2=2 f3=3 f4=4 f5=5 +3 more',
    )
  })

  it('never writes a control character: newlines and terminal escapes are escaped', () => {
    const line = formatHumanLine({
      time: at,
      level: 'info',
      name: 'p',
      msg: 'two\nlines \u001b[2J',
      text: 'x\u001b[31my',
    })
    expect(line).toBe('INFO  09:05:07 p: two\\nlines \\u001b[2J  text="x\\u001b[31my"')
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f]/)
  })
})

describe('the log format', () => {
  it('is human on a terminal and JSON elsewhere, by default', () => {
    const tty = capture({ name: 'svc', format: 'auto' }, true)
    tty.logger.info('hello', { server: '0010' })
    expect(tty.lines[0]).toMatch(/^INFO {2}\d\d:\d\d:\d\d svc: hello {2}server=0010\n$/)

    const pipe = capture({ name: 'svc', format: 'auto' }, false)
    pipe.logger.info('hello')
    expect(pipe.records()[0]).toMatchObject({ level: 'info', name: 'svc', msg: 'hello' })
  })

  it('json and pretty force their form whatever the stream', () => {
    const json = capture({ name: 'svc', format: 'json' }, true)
    json.logger.warn('w')
    expect(json.records()[0]).toMatchObject({ level: 'warn', msg: 'w' })

    const pretty = capture({ name: 'svc', format: 'pretty' })
    pretty.logger.child({ a: 1 }).error('e')
    expect(pretty.lines[0]).toMatch(/^ERROR \d\d:\d\d:\d\d svc: e {2}a=1\n$/)
  })

  it('keeps secrets redacted in the human form', () => {
    const secret = { toJSON: () => '[redacted]' }
    const { logger, lines } = capture({ name: 'x', format: 'pretty' })
    logger.info('cfg', { token: secret, nested: { password: secret } })
    expect(lines[0]).toMatch(/ token="\[redacted\]" nested={"password":"\[redacted\]"}\n$/)
  })

  it('reads LOG_FORMAT, auto when unset, and refuses another value with CONFIG_INVALID', () => {
    expect(logFormatFromEnv({})).toBe('auto')
    expect(logFormatFromEnv({ LOG_FORMAT: ' json ' })).toBe('json')
    expect(logFormatFromEnv({ LOG_FORMAT: 'pretty' })).toBe('pretty')
    expect(() => logFormatFromEnv({ LOG_FORMAT: 'text' })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message:
          'Invalid configuration (1 problem):\n  - LOG_FORMAT: "text" is not one of auto, json, pretty',
      }),
    )
  })
})
