import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { createRedactor } from '@wolkvox-chat-stream/wolkvox-client'
import {
  bounded,
  describeError,
  exitCodeOf,
  failed,
  oneLine,
  passed,
  redactResult,
  renderJson,
  renderLine,
  renderText,
  skipped,
  summarize,
  warned,
} from './result.js'

describe('renderLine', () => {
  it.each([
    [passed('kafka topics'), '✓ kafka topics'],
    [
      passed('kafka topics', '11 topics as provisioned'),
      '✓ kafka topics (11 topics as provisioned)',
    ],
    [
      failed('redis connection', 'REDIS_UNAVAILABLE: no answer', 'check REDIS_URL'),
      '✗ redis connection: REDIS_UNAVAILABLE: no answer — check REDIS_URL',
    ],
    [
      warned('redis maxmemory-policy', 'could not be checked', 'ask the operator'),
      '! redis maxmemory-policy: could not be checked — ask the operator',
    ],
    [skipped('schema registry'), '- schema registry: not configured'],
    [failed('x', 'broken', ''), '✗ x: broken'],
  ])('%j is one line: %s', (result, line) => {
    expect(renderLine(result)).toBe(line)
  })

  it('joins a CONFIG_INVALID list into one line', () => {
    const error = new AppError(
      'CONFIG_INVALID',
      'Invalid configuration (2 problems):\n  - WOLKVOX_SERVER: is required\n  - KAFKA_BROKERS: "x" is not host:port',
    )
    expect(renderLine(failed('config poller', describeError(error), 'set them'))).toBe(
      '✗ config poller: CONFIG_INVALID: Invalid configuration (2 problems): WOLKVOX_SERVER: is required; KAFKA_BROKERS: "x" is not host:port — set them',
    )
  })
})

describe('aggregation', () => {
  const good = [passed('a'), skipped('b'), passed('c', 'fine')]

  it('exits 0 only when every check passed or was not configured', () => {
    expect(exitCodeOf(good)).toBe(0)
    expect(exitCodeOf([...good, failed('d', 'bad', 'fix')])).toBe(1)
    // A check that could not be verified is not a pass.
    expect(exitCodeOf([...good, warned('d', 'unknown', 'ask')])).toBe(1)
    expect(exitCodeOf([])).toBe(0)
  })

  it('summarizes by status', () => {
    expect(summarize(good)).toBe('ready: 2 passed, 0 failed, 1 skipped')
    expect(summarize([...good, failed('d', 'x', 'y'), warned('e', 'x', 'y')])).toBe(
      'not ready: 2 passed, 1 failed, 1 not verified, 1 skipped',
    )
  })

  it('renders the lines in the order given', () => {
    expect(renderText([passed('b'), failed('a', 'x', 'y'), skipped('c')])).toBe(
      '✓ b\n✗ a: x — y\n- c: not configured',
    )
  })

  it('renders JSON as an array of {check, status, ok, detail, fix} in order', () => {
    expect(
      JSON.parse(renderJson([passed('b', 'ok'), warned('a', 'x', 'y'), skipped('c')])),
    ).toEqual([
      { check: 'b', status: 'pass', ok: true, detail: 'ok', fix: '' },
      { check: 'a', status: 'warn', ok: false, detail: 'x', fix: 'y' },
      { check: 'c', status: 'skip', ok: true, detail: 'not configured', fix: '' },
    ])
  })
})

describe('redaction', () => {
  it('replaces every secret, raw or URL-encoded, longest first', () => {
    const redact = createRedactor(['s3cr3t/pw', 's3cr3t', ''])
    expect(redact('a s3cr3t/pw b s3cr3t%2Fpw c s3cr3t')).toBe(
      'a [redacted] b [redacted] c [redacted]',
    )
    expect(
      redactResult(failed('x', 'password s3cr3t refused', 'not s3cr3t'), redact),
    ).toMatchObject({ detail: 'password [redacted] refused', fix: 'not [redacted]' })
  })
})

describe('oneLine', () => {
  it('drops blank lines and list dashes', () => {
    expect(oneLine('head:\n  - a\n\n  - b')).toBe('head: a; b')
  })
})

describe('bounded', () => {
  it('turns a check that outlives its bound into a failure naming the bound', async () => {
    const never = new Promise<never>(() => undefined)
    expect(await bounded('slow', 20, () => never, { fix: 'look' })).toEqual([
      failed('slow', 'no answer within 20 ms', 'look'),
    ])
  })

  it('turns a throw into a failure with the error code', async () => {
    const run = () => Promise.reject(new AppError('REDIS_UNAVAILABLE', 'gone'))
    expect(await bounded('redis', 1000, run, { fix: 'f' })).toEqual([
      failed('redis', 'REDIS_UNAVAILABLE: gone', 'f'),
    ])
  })

  it('passes results through', async () => {
    expect(await bounded('a', 1000, () => Promise.resolve(passed('a')), { fix: '' })).toEqual([
      passed('a'),
    ])
  })
})
