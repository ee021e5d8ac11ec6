import { describe, expect, it } from 'vitest'
import { bucketOf, FIRST_RESPONSE_BUCKETS_MS, quantileBound } from './histogram.js'

describe('first-response buckets', () => {
  it('puts a value in the first bucket whose bound is at or above it', () => {
    expect(bucketOf(0)).toBe(0)
    expect(bucketOf(5_000)).toBe(0)
    expect(bucketOf(5_001)).toBe(1)
    expect(bucketOf(60_000)).toBe(FIRST_RESPONSE_BUCKETS_MS.indexOf(60_000))
    expect(bucketOf(3_600_001)).toBe(FIRST_RESPONSE_BUCKETS_MS.length)
  })

  it('answers the bound of the bucket that holds the quantile', () => {
    // 10 values: 6 within 5 s, 3 within 60 s, 1 over an hour.
    const counts = new Array<number>(FIRST_RESPONSE_BUCKETS_MS.length + 1).fill(0)
    counts[0] = 6
    counts[bucketOf(50_000)] = 3
    counts[FIRST_RESPONSE_BUCKETS_MS.length] = 1
    expect(quantileBound(counts, 0.5)).toBe(5_000)
    expect(quantileBound(counts, 0.6)).toBe(5_000)
    expect(quantileBound(counts, 0.61)).toBe(60_000)
    expect(quantileBound(counts, 0.9)).toBe(60_000)
    expect(quantileBound(counts, 0.91)).toBeNull()
    expect(quantileBound([], 0.5)).toBeNull()
  })

  it('merges by adding counts: the quantile of the sum is the quantile of all values', () => {
    const a = [2, 0, 1]
    const b = [0, 3, 0]
    expect(
      quantileBound(
        a.map((n, i) => n + (b[i] ?? 0)),
        0.5,
      ),
    ).toBe(10_000)
  })
})
