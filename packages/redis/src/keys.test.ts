import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { redisKeys, tokenKeyPart } from './keys.js'

describe('redisKeys', () => {
  it('puts the server in a hash tag', () => {
    expect(redisKeys.key('0010', 'watermark', 'chat_2')).toBe('wcs:{0010}:watermark:chat_2')
    expect(redisKeys.key('0010', 'lock')).toBe('wcs:{0010}:lock')
  })

  it('builds global keys without a hash tag', () => {
    expect(redisKeys.globalKey('epoch')).toBe('wcs:global:epoch')
    expect(redisKeys.globalKey('servers', 'active')).toBe('wcs:global:servers:active')
  })

  it.each(['', 'a b', 'a{b', 'a}b', 'a:b', 'tab\there', 'nl\n', 'nul\u0000'])(
    'rejects the part %j with REDIS_KEY_INVALID',
    (bad) => {
      const code = { code: 'REDIS_KEY_INVALID', retriable: false }
      expect(() => redisKeys.key('0010', bad)).toThrow(expect.objectContaining(code))
      expect(() => redisKeys.key(bad, 'x')).toThrow(expect.objectContaining(code))
      expect(() => redisKeys.globalKey('x', bad)).toThrow(expect.objectContaining(code))
    },
  )
})

describe('tokenKeyPart', () => {
  it('is the first 32 hex chars of the SHA-256, never the token', () => {
    const token = 'wolkvox-secret-token-123'
    const part = tokenKeyPart(token)
    expect(part).toMatch(/^[0-9a-f]{32}$/)
    expect(part).toBe(createHash('sha256').update(token).digest('hex').slice(0, 32))
    expect(part).not.toContain(token)
    expect(tokenKeyPart('other')).not.toBe(part)
    expect(redisKeys.key('0010', 'token', part)).toBe(`wcs:{0010}:token:${part}`)
  })

  it('refuses an empty token', () => {
    expect(() => tokenKeyPart('')).toThrow(expect.objectContaining({ code: 'REDIS_KEY_INVALID' }))
  })
})
