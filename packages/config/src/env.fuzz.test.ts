import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectOnlyAppErrors, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { EnvReader, readConfig, type Env } from './env.js'
import { Secret } from './secret.js'

/** An environment value: hostile text, random text, or something close to a valid value. */
const envValue = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('true', 'FALSE', ' yes ', 'On', '0', '1', 'off', 'no', 'maybe'),
  fc.constantFrom('500ms', '30s', ' 5m ', '1h', '1d', '1.5s', '-1s', '99999999999999999999d'),
  fc.integer().map(String),
  fc.constantFrom('json', 'pretty', 'JSON', ' json '),
  fc.array(fc.constantFrom('a', ' b ', '', ',', ' , '), { maxLength: 6 }).map((p) => p.join(',')),
  fc.constant(undefined),
)

const names = ['A', 'B', 'C', 'D', 'E', 'F', 'G'] as const
/** Every variable the reader is asked for, plus prototype keys as own properties. */
const envOf = fc
  .tuple(
    fc.record(
      Object.fromEntries(names.map((n) => [n, envValue])) as Record<
        (typeof names)[number],
        typeof envValue
      >,
    ),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'toString', 'x'), fc.string()),
  )
  .map(([known, extra]): Env => {
    // JSON.parse makes "__proto__" an own property, as a hostile env object could have it.
    const env = JSON.parse(JSON.stringify(extra)) as Record<string, string | undefined>
    for (const [key, value] of Object.entries(known)) env[key] = value
    return env
  })

const allowed = ['json', 'pretty'] as const

function readAll(r: EnvReader) {
  return {
    string: r.string('A', 'fallback'),
    optional: r.string('A'),
    required: r.required('B'),
    integer: r.integer('C', 7, { min: -5, max: 1_000 }),
    boolean: r.boolean('D', false),
    duration: r.durationMs('E', '30s'),
    oneOf: r.oneOf('F', allowed, 'json'),
    list: r.list('G', ['x']),
    secret: r.secret('A'),
  }
}

describe('EnvReader on any environment values', () => {
  it('never throws, and every value it returns is well-formed or the fallback', () => {
    fc.assert(
      fc.property(envOf, (env) => {
        const reader = new EnvReader(env)
        const values = withinMs(() => readAll(reader), undefined, env)
        const trimmed = (name: string): string | undefined => {
          const raw = env[name]
          return raw === undefined || raw.trim() === '' ? undefined : raw.trim()
        }
        const problemFor = (name: string): boolean =>
          reader.problems.some((p) => p.variable === name)

        expect(values.string).toBe(trimmed('A') ?? 'fallback')
        expect(values.optional).toBe(trimmed('A'))
        expect(values.required).toBe(trimmed('B') ?? '')
        expect(problemFor('B')).toBe(trimmed('B') === undefined)

        expect(Number.isSafeInteger(values.integer)).toBe(true)
        expect(values.integer).toBeGreaterThanOrEqual(-5)
        expect(values.integer).toBeLessThanOrEqual(1_000)
        if (problemFor('C')) expect(values.integer).toBe(7)
        else if (trimmed('C') !== undefined) expect(values.integer).toBe(Number(trimmed('C')))

        expect(typeof values.boolean).toBe('boolean')
        expect(Number.isSafeInteger(values.duration) && values.duration >= 0).toBe(true)
        if (problemFor('E')) expect(values.duration).toBe(30_000)
        expect(allowed).toContain(values.oneOf)
        expect(problemFor('F')).toBe(
          trimmed('F') !== undefined && !(allowed as readonly string[]).includes(trimmed('F')!),
        )
        for (const item of values.list) {
          expect(item).toBe(item.trim())
          expect(item).not.toBe('')
          expect(item).not.toContain(',')
        }
        if (values.secret !== undefined) {
          expect(values.secret).toBeInstanceOf(Secret)
          expect(values.secret.reveal()).toBe(env.A)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('readConfig returns a frozen value or throws CONFIG_INVALID listing every problem', () => {
    fc.assert(
      fc.property(envOf, (env) => {
        const outcome = withinMs(
          () => expectOnlyAppErrors(() => readConfig(env, readAll), ['CONFIG_INVALID'], env),
          undefined,
          env,
        )
        if (outcome.ok) {
          expect(Object.isFrozen(outcome.value)).toBe(true)
          expect(Object.isFrozen(outcome.value.list)).toBe(true)
        } else {
          const problems = outcome.error.details.problems as { variable: string }[]
          expect(problems.length).toBeGreaterThan(0)
          for (const { variable } of problems) expect(outcome.error.message).toContain(variable)
        }
      }),
      { numRuns: 1_000 },
    )
  })
})
