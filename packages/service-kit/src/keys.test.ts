import { describe, expect, it } from 'vitest'
import { redisKeys } from '@wolkvox-chat-stream/redis'
import { assertServiceName, encodeKeyPart, serviceKeys } from './keys.js'

describe('service keys', () => {
  const keys = serviceKeys('sentiment-aggregator')

  it('puts everything of a partition under the partition hash tag', () => {
    expect(keys.meta(3)).toBe('wcs:{sentiment-aggregator.p3}:kit:meta')
    expect(keys.events(3)).toBe('wcs:{sentiment-aggregator.p3}:kit:events')
    expect(keys.state(3, ['agent', 'Ana María', 'hour'])).toBe(
      'wcs:{sentiment-aggregator.p3}:s:agent:Ana%20Mar%C3%ADa:hour',
    )
    expect(keys.partitionPattern(3)).toBe('wcs:{sentiment-aggregator.p3}:*')
    expect(keys.epoch).toBe(redisKeys.key('sentiment-aggregator', 'epoch'))
  })

  it('escapes parts so that different paths never share a key', () => {
    const a = keys.state(0, ['a:b', 'c'])
    const b = keys.state(0, ['a', 'b:c'])
    const c = keys.state(0, ['a', 'b', 'c'])
    expect(new Set([a, b, c]).size).toBe(3)
    expect(encodeKeyPart('')).toBe('%')
    expect(encodeKeyPart('%')).toBe('%25')
    expect(keys.state(0, ['{x}', ' '])).toBe('wcs:{sentiment-aggregator.p0}:s:%7Bx%7D:%20')
  })

  it.each(['', 'Upper', '1abc', 'a.b', 'a_b', 'x'.repeat(64), 'a:b'])(
    'refuses the name %j',
    (name) => {
      expect(() => assertServiceName(name)).toThrow(
        expect.objectContaining({ code: 'CONSUMER_OPTIONS_INVALID' }),
      )
    },
  )

  it('refuses a path without parts', () => {
    expect(() => keys.state(0, [])).toThrow(
      expect.objectContaining({ code: 'CONSUMER_OPTIONS_INVALID' }),
    )
  })
})
