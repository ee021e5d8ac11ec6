import { describe, expect, it } from 'vitest'
import { buildApplyScript, parseApplyReply } from './apply-script.js'

describe('the apply script', () => {
  it('opens with its documented header and embeds the registered functions after it', () => {
    const { lua, sha, functions } = buildApplyScript({ keepMax: '-- KEYS[1] a hash\nreturn 1' })
    expect(lua.startsWith('--[[\napply-chunk')).toBe(true)
    for (const part of ['KEYS[1]', 'KEYS[2]', 'ARGV[1]', 'ARGV[5]', 'Returns'])
      expect(lua.slice(0, lua.indexOf(']]'))).toContain(part)
    expect(lua).toContain("custom['keepMax'] = function(KEYS, ARGV)")
    expect(sha).toMatch(/^[0-9a-f]{40}$/)
    expect([...functions]).toEqual(['keepMax'])
    expect(buildApplyScript().sha).not.toBe(sha)
  })

  it('refuses a function name that is not an identifier', () => {
    expect(() => buildApplyScript({ "x']=1--": 'return 1' })).toThrow(
      expect.objectContaining({ code: 'CONSUMER_OPTIONS_INVALID' }),
    )
  })

  it.each([
    [
      ['OK', [1], [0, 'ERR x']],
      { status: 'OK', skipped: [1], opErrors: [{ group: 0, error: 'ERR x' }] },
    ],
    [['LOST'], { status: 'LOST' }],
    [['STALE', 'E0'], { status: 'STALE', epoch: 'E0' }],
    [['FOREIGN'], { status: 'FOREIGN' }],
    [['CONFLICT'], { status: 'CONFLICT' }],
    [['REJECTED', 2, 'why'], { status: 'REJECTED', rejected: [{ group: 2, reason: 'why' }] }],
  ])('reads the reply %j', (reply, expected) => {
    expect(parseApplyReply(reply)).toEqual(expected)
  })

  it('treats anything else as REDIS_COMMAND_FAILED', () => {
    expect(() => parseApplyReply('OK')).toThrow(
      expect.objectContaining({ code: 'REDIS_COMMAND_FAILED' }),
    )
  })
})
