import { describe, expect, it } from 'vitest'
import { describeSlots, uncoveredSlots } from './redis-checks.js'

/** A `CLUSTER SLOTS` range: start, end, then the master and replicas (not looked at). */
const range = (start: number, end: number): unknown[] => [start, end, ['127.0.0.1', 7000, 'id']]

describe('uncoveredSlots', () => {
  it('is empty when the ranges cover all 16384 slots, in any order', () => {
    expect(uncoveredSlots([range(10923, 16383), range(0, 5460), range(5461, 10922)])).toEqual([])
  })

  it('names each gap as a range: at the start, in the middle, a single slot, at the end', () => {
    expect(uncoveredSlots([range(100, 4999), range(5001, 10922), range(10923, 16380)])).toEqual([
      [0, 99],
      [5000, 5000],
      [16381, 16383],
    ])
  })

  it('is every slot for an empty answer (a node that knows no master)', () => {
    expect(uncoveredSlots([])).toEqual([[0, 16383]])
  })
})

describe('describeSlots', () => {
  it('counts the slots and lists the ranges', () => {
    expect(
      describeSlots([
        [0, 99],
        [5000, 5000],
      ]),
    ).toBe('101 of 16384 slots are not served: 0-99, 5000')
  })

  it('lists the first 10 ranges and says how many more', () => {
    const gaps = Array.from({ length: 12 }, (_, i): [number, number] => [i * 10, i * 10])
    expect(describeSlots(gaps)).toBe(
      '12 of 16384 slots are not served: 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 and 2 more ranges',
    )
  })
})
