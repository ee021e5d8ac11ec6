import { describe, expect, it } from 'vitest'
import { countByKind, describeFault, faultEndMs, planFaults, type Fault } from './plan.js'

/** Whether two faults hold the same target at the same time. */
function sameTargetOverlap(a: Fault, b: Fault): boolean {
  const target = (f: Fault): string =>
    f.kind === 'kill' || f.kind === 'pause'
      ? f.target
      : f.kind === 'broker-kill'
        ? 'kafka'
        : f.kind.startsWith('redis')
          ? 'redis'
          : f.kind
  return target(a) === target(b) && a.atMs <= faultEndMs(b) && b.atMs <= faultEndMs(a)
}

describe('the chaos schedule', () => {
  it('is the same for the same seed, and another for another seed', () => {
    const options = { chaosMs: 180_000, nodes: 3 }
    expect(planFaults({ seed: 42, ...options })).toEqual(planFaults({ seed: 42, ...options }))
    expect(planFaults({ seed: 43, ...options })).not.toEqual(planFaults({ seed: 42, ...options }))
  })

  it('overlaps faults of different targets, never two on one target, all over by the end', () => {
    let overlapping = 0
    const kinds = new Set<string>()
    for (let seed = 1; seed <= 200; seed++) {
      const plan = planFaults({ seed, chaosMs: 120_000, nodes: 3 })
      expect(plan.length).toBeGreaterThan(0)
      for (const [i, a] of plan.entries()) {
        kinds.add(a.kind)
        expect(a.atMs).toBeGreaterThanOrEqual(0)
        expect(faultEndMs(a)).toBeLessThanOrEqual(120_000)
        if (i > 0) expect(a.atMs).toBeGreaterThanOrEqual(plan[i - 1]!.atMs)
        for (const b of plan.slice(i + 1)) {
          expect(sameTargetOverlap(a, b), `${describeFault(a)} / ${describeFault(b)}`).toBe(false)
          if (b.atMs < faultEndMs(a)) overlapping++
        }
      }
    }
    // Real outages overlap: the schedules hold many concurrent faults, of every kind.
    expect(overlapping).toBeGreaterThan(200)
    expect([...kinds].sort()).toEqual(
      [
        'broker-kill',
        'kill',
        'network-delay',
        'pause',
        'redis-flush',
        'redis-restart',
        'upstream',
      ].sort(),
    )
  })

  it('draws about the asked rate, and kills only the nodes that exist', () => {
    const plan = planFaults({ seed: 7, chaosMs: 600_000, nodes: 1, faultsPerMinute: 10 })
    // A fault whose target is held is drawn once more, then dropped: most survive.
    expect(plan.length).toBeGreaterThan(60)
    expect(plan.length).toBeLessThanOrEqual(100)
    for (const f of plan) if (f.kind === 'broker-kill') expect(f.node).toBe(1)
    const counts = countByKind(plan)
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(plan.length)
  })
})
