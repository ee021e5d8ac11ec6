import { describe, expect, it } from 'vitest'
import { createFaultPlan, parseFaultSpec } from './faults.js'

describe('parseFaultSpec', () => {
  it('accepts every documented fault', () => {
    expect(parseFaultSpec({ kind: 'server-error', status: 503, count: 2 })).toEqual({
      kind: 'server-error',
      status: 503,
      count: 2,
    })
    expect(
      parseFaultSpec({ kind: 'response', status: 200, body: '{}', headers: { a: 'b' } }),
    ).toMatchObject({
      kind: 'response',
    })
  })

  it.each([
    [{ kind: 'explode' }, 'kind must be one of'],
    [{ kind: 'server-error', status: 404 }, 'status must be a whole number in 500..599'],
    [{ kind: 'slow', intervalMs: -1 }, 'intervalMs'],
    [{ kind: 'maintenance', count: 0 }, 'count'],
    [{ kind: 'response' }, 'status'],
    ['server-error', 'not an object'],
  ])('refuses %j', (spec, problem) => {
    expect(() => parseFaultSpec(spec)).toThrow(problem)
  })
})

describe('createFaultPlan', () => {
  it('applies queued faults to the next calls in order, each for its count', () => {
    const plan = createFaultPlan(undefined, 1, 1)
    plan.push({ kind: 'maintenance', count: 2 }, { kind: 'truncated' })
    expect([plan.next(), plan.next(), plan.next(), plan.next()].map((f) => f?.kind)).toEqual([
      'maintenance',
      'maintenance',
      'truncated',
      undefined,
    ])
  })

  it('applies the run fault at its rate, the same way for the same seed', () => {
    const kinds = (seed: number): (string | undefined)[] => {
      const plan = createFaultPlan({ kind: 'server-error' }, 0.3, seed)
      return Array.from({ length: 200 }, () => plan.next()?.kind)
    }
    const first = kinds(7)
    const hits = first.filter((kind) => kind === 'server-error').length
    expect(hits).toBeGreaterThan(35)
    expect(hits).toBeLessThan(85)
    expect(kinds(7)).toEqual(first)
    expect(kinds(8)).not.toEqual(first)
  })

  it('serves the queue before the run fault', () => {
    const plan = createFaultPlan({ kind: 'no-answer' }, 1, 1)
    plan.push({ kind: 'truncated' })
    expect(plan.next()?.kind).toBe('truncated')
    expect(plan.next()?.kind).toBe('no-answer')
    plan.clear()
    expect(plan.describe().queue).toEqual([])
  })
})
