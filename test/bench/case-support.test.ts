import { describe, expect, it } from 'vitest'
import { pooledQuantile } from './case-support.js'

describe('pooledQuantile', () => {
  it('ranks every message of every window together, not a median of windows', () => {
    // Window A: 98 messages at 100 ms, 2 at 900 ms. Window B: 100 at 120 ms. Window C: 100 at 130.
    const a: [number, number][] = [
      [100, 98],
      [900, 2],
    ]
    const b: [number, number][] = [[120, 100]]
    const c: [number, number][] = [[130, 100]]
    const all = [...c, ...a, ...b]
    // 300 messages: the 150th is at 120 ms; the 297th is at 130 ms; only the last 2 take 900 ms.
    expect(pooledQuantile(all, 0.5)).toBe(120)
    expect(pooledQuantile(all, 0.99)).toBe(130)
    expect(pooledQuantile(all, 1)).toBe(900)
    // Window A alone: its p99 is the 99th of 100 messages, at 900 ms.
    expect(pooledQuantile(a, 0.99)).toBe(900)
    expect(pooledQuantile([], 0.5)).toBeNaN()
  })
})
