import { describe, expect, it } from 'vitest'
import { AppError } from './app-error.js'
import {
  deeplyNested,
  describeInput,
  expectOnlyAppErrors,
  hostileStrings,
  thrownAppError,
  withinMs,
} from './fuzz-helpers.js'

describe('expectOnlyAppErrors', () => {
  it('passes a value returned, and an AppError of a registered (and allowed) code', () => {
    expect(expectOnlyAppErrors(() => 42)).toEqual({ ok: true, value: 42 })
    const error = new AppError('CONFIG_INVALID', 'bad')
    const outcome = expectOnlyAppErrors(() => {
      throw error
    }, ['CONFIG_INVALID'])
    expect(outcome).toEqual({ ok: false, error })
  })

  it('fails anything else, naming the input', () => {
    expect(() =>
      expectOnlyAppErrors(
        () => {
          throw new TypeError('x is undefined')
        },
        undefined,
        'in',
      ),
    ).toThrow('threw something that is not an AppError for input "in": TypeError: x is undefined')
    expect(() =>
      expectOnlyAppErrors(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what the helper must catch
        throw 'a string'
      }),
    ).toThrow('threw something that is not an AppError: "a string"')
    expect(() =>
      expectOnlyAppErrors(() => {
        throw new AppError('NOT_A_CODE' as never, 'x', { retriable: false })
      }),
    ).toThrow('threw an AppError with the unregistered code NOT_A_CODE')
    expect(() =>
      expectOnlyAppErrors(() => {
        throw new AppError('CONFIG_INVALID', 'x')
      }, ['CONFIG_DURATION_INVALID']),
    ).toThrow('threw CONFIG_INVALID, not one of CONFIG_DURATION_INVALID')
  })
})

describe('withinMs', () => {
  it('passes on what the call returns or throws when it is fast enough', () => {
    expect(withinMs(() => 'done', 1_000)).toBe('done')
    expect(() =>
      withinMs(() => {
        throw new Error('boom')
      }, 1_000),
    ).toThrow('boom')
  })

  it('fails a call that is slow twice', () => {
    let calls = 0
    const slow = (): void => {
      calls++
      const until = performance.now() + 5
      while (performance.now() < until);
    }
    expect(() => withinMs(slow, 1, 'x')).toThrow(/over the 1 ms bound for input "x"/)
    expect(calls).toBe(2)
  })
})

describe('inputs', () => {
  it('describes any input briefly, even one nested too deeply to print', () => {
    expect(describeInput('x'.repeat(1_000))).toMatch(/… \(1002 characters\)$/)
    expect(describeInput(deeplyNested(10_000))).toBe('[object Array]')
    expect(describeInput(new Uint8Array([0xc3, 1]))).toBe('bytes c301')
  })

  it('has long, prototype-key and deep hostile strings', () => {
    expect(hostileStrings).toContain('__proto__')
    expect(hostileStrings.some((s) => s.length >= 10_000)).toBe(true)
    expect(JSON.stringify(deeplyNested(3))).toBe('[[[]]]')
  })
})

describe('thrownAppError', () => {
  it('returns the AppError thrown, and refuses a return or any other throw', () => {
    const error = new AppError('CONFIG_INVALID', 'bad')
    expect(
      thrownAppError(() => {
        throw error
      }),
    ).toBe(error)
    expect(() => thrownAppError(() => 1)).toThrow('expected an AppError, but nothing was thrown')
    expect(() =>
      thrownAppError(() => {
        throw new TypeError('plain')
      }),
    ).toThrow('expected an AppError, got TypeError: plain')
  })
})
