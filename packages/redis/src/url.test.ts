import { describe, expect, it } from 'vitest'
import { parseRedisUrl, redactRedisUrl } from './url.js'

describe('parseRedisUrl', () => {
  it('reads host, port, credentials, db and tls', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390')).toEqual({
      host: '127.0.0.1',
      port: 6390,
      db: 0,
      tls: false,
    })
    expect(parseRedisUrl('rediss://app:p%40ss@cache.example:6380/2')).toEqual({
      host: 'cache.example',
      port: 6380,
      username: 'app',
      password: 'p@ss',
      db: 2,
      tls: true,
    })
    expect(parseRedisUrl('redis://:only-pass@[::1]/')).toEqual({
      host: '::1',
      port: 6379,
      password: 'only-pass',
      db: 0,
      tls: false,
    })
  })

  it.each([
    'not a url',
    'http://localhost:6379',
    'redis://',
    'redis://localhost/abc',
    'redis://localhost/-1',
    'redis://localhost?password=x',
    'redis://localhost#frag',
  ])('rejects %j with REDIS_URL_INVALID', (url) => {
    expect(() => parseRedisUrl(url)).toThrow(
      expect.objectContaining({ code: 'REDIS_URL_INVALID', retriable: false }),
    )
  })

  it('keeps the password out of the error', () => {
    let error: unknown
    try {
      parseRedisUrl('redis://u:hunter2@localhost/zz')
    } catch (caught) {
      error = caught
    }
    expect(JSON.stringify(error)).not.toContain('hunter2')
    expect(JSON.stringify(error)).toContain('redis://u:[redacted]@localhost/zz')
  })
})

describe('redactRedisUrl', () => {
  it.each([
    ['redis://user:hunter2@host:6379/1', 'redis://user:[redacted]@host:6379/1'],
    ['rediss://:hunter2@host', 'rediss://:[redacted]@host'],
    ['redis://user@host', 'redis://user@host'],
    ['redis://host:6379', 'redis://host:6379'],
    ['redis://host?password=hunter2&db=1', 'redis://host?password=[redacted]&db=1'],
    ['redis://:p@ss:w@rd@host', 'redis://:[redacted]@host'],
    ['::hunter2::', '[unparseable url]'],
  ])('%s -> %s', (url, expected) => {
    expect(redactRedisUrl(url)).toBe(expected)
    expect(redactRedisUrl(url)).not.toContain('hunter2')
  })
})
