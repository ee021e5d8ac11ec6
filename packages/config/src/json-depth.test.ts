import { describe, expect, it } from 'vitest'
import { nestedDeeperThan } from './json-depth.js'

/** An array nested `levels` deep: `[[…[1]…]]`. */
const nested = (levels: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = [value]
  return value
}

describe('nestedDeeperThan', () => {
  it('counts the value itself as level 1, arrays and objects alike', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false)
    expect(nestedDeeperThan({}, 1)).toBe(false)
    expect(nestedDeeperThan({ a: {} }, 1)).toBe(true)
    expect(nestedDeeperThan(nested(3), 3)).toBe(false)
    expect(nestedDeeperThan(nested(4), 3)).toBe(true)
    expect(nestedDeeperThan({ a: [1, { b: [] }] }, 4)).toBe(false)
    expect(nestedDeeperThan({ a: [1, { b: [] }] }, 3)).toBe(true)
  })

  it('answers for a value far deeper than the call stack allows, without overflowing it', () => {
    const deep = nested(200_000)
    expect(() => JSON.stringify(deep)).toThrow(RangeError)
    expect(nestedDeeperThan(deep, 64)).toBe(true)
  })
})
