import { describe, expect, it } from 'vitest'
import { measureThroughput } from './bench.js'

describe('measureThroughput', () => {
  it('scores whole rounds until the minimum duration has passed', () => {
    const texts = ['muy buena atención, gracias', 'no me han solucionado nada 😡']
    const seen: string[] = []
    const result = measureThroughput(texts, {
      minDurationMs: 5,
      warmupRounds: 1,
      score: (text) => seen.push(text),
    })
    expect(result.messages % texts.length).toBe(0)
    expect(result.durationMs).toBeGreaterThanOrEqual(5)
    expect(result.messagesPerSecond).toBeCloseTo((result.messages / result.durationMs) * 1000, 6)
    expect(result.cpuMs).toBeGreaterThan(0)
    expect(result.messagesPerCpuSecond).toBeCloseTo((result.messages / result.cpuMs) * 1000, 6)
    // Warm-up round plus the timed ones.
    expect(seen).toHaveLength(result.messages + texts.length)
  })

  it('refuses an empty list', () => {
    expect(() => measureThroughput([])).toThrow(RangeError)
  })
})
