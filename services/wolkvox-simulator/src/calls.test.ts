import { describe, expect, it } from 'vitest'
import { findOverlaps, tokenFingerprint, type SimCall } from './calls.js'

const call = (id: number, token: string | null, start: number, end: number | null): SimCall => ({
  id,
  token,
  api: 'chat_2',
  dateIni: null,
  dateEnd: null,
  startedAtMs: start,
  endedAtMs: end,
  status: 200,
  outcome: end === null ? 'in-flight' : 'completed',
  fault: null,
  chats: 0,
  messages: 0,
  bytes: 0,
  lateMessages: 0,
})

describe('findOverlaps', () => {
  it('finds calls on one token in flight together, and only those', () => {
    const overlaps = findOverlaps([
      call(1, 'a', 0, 10),
      call(2, 'a', 10, 20), // starts as 1 ends: no overlap
      call(3, 'b', 5, 15), // another token
      call(4, 'a', 19.5, 30), // overlaps 2
      call(5, null, 0, 100),
    ])
    expect(overlaps.map((o) => [o.first.id, o.second.id])).toEqual([[2, 4]])
  })

  it('counts a call still in flight as overlapping everything after it', () => {
    expect(findOverlaps([call(1, 'a', 0, null), call(2, 'a', 1_000, 1_001)])).toHaveLength(1)
  })
})

describe('tokenFingerprint', () => {
  it('is stable and does not contain the token', () => {
    expect(tokenFingerprint('secret-token')).toBe(tokenFingerprint('secret-token'))
    expect(tokenFingerprint('secret-token')).toMatch(/^sha256:[0-9a-f]{12}$/)
    expect(tokenFingerprint('secret-token')).not.toBe(tokenFingerprint('secret-token2'))
  })
})
