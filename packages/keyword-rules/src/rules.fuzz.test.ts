import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  deeplyNested,
  expectOnlyAppErrors,
  hostileStrings,
  withinMs,
} from '@wolkvox-chat-stream/errors'
import { classifyMessage } from './classify.js'
import { compileRules } from './compile.js'
import { loadRules, parseRules, type RulesProblem } from './rules.js'

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
)
const anyValue = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 6_000 }).map(deeplyNested) },
)
/** A word as rule authors write one: letters with accents, sometimes a prefix `*`. */
const word = fc
  .tuple(
    fc.array(fc.constantFrom(...'abcdeéfghiíjklmnñoóprstuúüvyzÁÉ0123'), {
      minLength: 1,
      maxLength: 9,
    }),
    fc.constantFrom('', '', '', '*'),
  )
  .map(([letters, star]) => letters.join('') + star)
const term = fc.oneof(
  { weight: 5, arbitrary: word },
  { weight: 2, arbitrary: fc.array(word, { minLength: 2, maxLength: 3 }).map((w) => w.join(' ')) },
  { weight: 1, arbitrary: text },
)
const terms = fc.oneof(
  { weight: 6, arbitrary: fc.array(term, { maxLength: 4 }) },
  { weight: 1, arbitrary: anyValue },
)
const rule = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/), anyValue),
    label: fc.oneof(text, anyValue),
    description: fc.oneof(text, anyValue),
    phrases: terms,
    keywords: terms,
    allOf: fc.oneof(fc.array(fc.array(term, { maxLength: 3 }), { maxLength: 9 }), anyValue),
    exclusions: terms,
    senders: fc.oneof(
      fc.array(fc.constantFrom('customer', 'agent', 'bot', 'other', 'robot'), { maxLength: 4 }),
      anyValue,
    ),
    priority: fc.oneof(fc.double(), fc.integer(), anyValue),
    ['__proto__']: anyValue,
    constructor: anyValue,
  },
  { requiredKeys: [] },
)
const rulesDocument = fc.oneof(
  { weight: 1, arbitrary: anyValue },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        version: fc.oneof(fc.constantFrom('1.0.0', ' 2025.06.1 '), anyValue),
        description: fc.oneof(text, anyValue),
        tramites: fc.oneof(
          { weight: 6, arbitrary: fc.array(fc.oneof(rule, anyValue), { maxLength: 4 }) },
          { weight: 1, arbitrary: anyValue },
        ),
        ['__proto__']: anyValue,
      },
      { requiredKeys: [] },
    ),
  },
)

/** Rule sets that are valid but for folding clashes and short prefixes (which parseRules finds). */
const validDocument = fc.record({
  version: fc.constantFrom('1.0.0', ' 2025.06.1 '),
  description: fc.string(),
  tramites: fc
    .uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/), { minLength: 1, maxLength: 4 })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((id) =>
          fc.record(
            {
              id: fc.constant(id),
              label: fc.string({ minLength: 1 }).filter((l) => l.trim() !== ''),
              description: fc.string(),
              phrases: fc.array(
                fc.array(word, { minLength: 2, maxLength: 3 }).map((w) => w.join(' ')),
                { maxLength: 2 },
              ),
              keywords: fc.array(word, { minLength: 1, maxLength: 3 }),
              allOf: fc.array(fc.array(word, { minLength: 1, maxLength: 2 }), {
                minLength: 2,
                maxLength: 3,
              }),
              exclusions: fc.array(word, { maxLength: 1 }),
              senders: fc.subarray(['customer', 'agent', 'bot', 'other'], { minLength: 1 }),
              priority: fc.integer({ min: -5, max: 5 }),
            },
            { requiredKeys: ['id', 'label', 'keywords'] },
          ),
        ),
      ),
    ),
})

describe('parseRules on any JSON', () => {
  it('returns a rule set or throws TRAMITE_RULES_INVALID listing problems, fast', () => {
    fc.assert(
      fc.property(rulesDocument, (json) => {
        const outcome = withinMs(
          () => expectOnlyAppErrors(() => parseRules(json, 'r.json'), ['TRAMITE_RULES_INVALID']),
          100,
          json,
        )
        if (outcome.ok) return
        const problems = outcome.error.details.problems as RulesProblem[]
        expect(problems.length).toBeGreaterThan(0)
        expect(outcome.error.message.startsWith('Rules file r.json has ')).toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: a rule set it accepts, written as JSON, is read back as itself and compiles', () => {
    let tried = 0
    let accepted = 0
    fc.assert(
      fc.property(validDocument, text, (json, message) => {
        tried++
        const outcome = expectOnlyAppErrors(
          () => parseRules(json, 'r.json'),
          ['TRAMITE_RULES_INVALID'],
        )
        if (!outcome.ok) return
        accepted++
        const rules = outcome.value
        // Written back as a rules file: `allOf`, when present, is documented as 2 to 8 groups
        // (README, rules file table), so the `[]` default is left out as an author would.
        const file = {
          ...rules,
          tramites: rules.tramites.map(({ allOf, ...rule }) =>
            allOf.length === 0 ? rule : { ...rule, allOf },
          ),
        }
        expect(parseRules(JSON.parse(JSON.stringify(file)), 'r.json')).toEqual(rules)
        const compiled = compileRules(rules)
        const classification = withinMs(() => classifyMessage(compiled, message), 100, message)
        expect(classification.rulesVersion).toBe(rules.version)
      }),
      { numRuns: 1_000 },
    )
    // The generator is meant to give mostly valid rule sets: the property must not be vacuous
    // (more than 30 % accepted; `tried`, not 1,000: mutation runs run fewer, test/mutation/setup.ts).
    expect(accepted).toBeGreaterThan(tried * 0.3)
  })
})

describe('loadRules on any file text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-fuzz-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  /** The document as text, or (when JSON.stringify cannot write it) a deep one written by hand. */
  const fileText = fc.oneof(
    fc.constantFrom(...hostileStrings),
    fc.string({ unit: 'binary', maxLength: 50 }),
    rulesDocument.map((json) => {
      try {
        return JSON.stringify(json) ?? ''
      } catch {
        return `{"version":"1","tramites":[{"id":${'['.repeat(5_000)}${']'.repeat(5_000)}}]}`
      }
    }),
  )

  it('throws only TRAMITE_RULES_INVALID for a file that is not a valid rule set', () => {
    let n = 0
    fc.assert(
      fc.property(fileText, (content) => {
        const path = join(dir, `rules-${n++}.json`)
        writeFileSync(path, content)
        withinMs(
          () => expectOnlyAppErrors(() => loadRules(path), ['TRAMITE_RULES_INVALID'], content),
          100,
          content,
        )
      }),
      { numRuns: 300 },
    )
  })
})

describe('regressions found by the properties above', () => {
  it('reports an id nested 5,000 levels deep as a problem (it threw a RangeError)', () => {
    const json = {
      version: '1',
      tramites: [{ id: deeplyNested(5_000), label: 'x', keywords: ['pago'] }],
    }
    const outcome = expectOnlyAppErrors(() => parseRules(json, 'r.json'), ['TRAMITE_RULES_INVALID'])
    if (outcome.ok) throw new Error('expected TRAMITE_RULES_INVALID')
    expect(outcome.error.details.problems).toEqual([
      {
        path: 'tramites[0].id',
        message: 'must be a string of lower-case letters, digits, "-" or "_", got an array',
      },
    ])
  })
})
