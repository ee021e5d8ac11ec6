/*
 * Every refusal of a rules file, word for word: the path, the trámite and the message an author
 * reads to fix the file (README: the rules file). rules.test.ts covers the shapes; this file pins
 * each text and each bound, so a changed or dropped check shows here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { thrownAppError } from '@wolkvox-chat-stream/errors'
import { loadRules, parseRules } from './rules.js'

/** The problems `parseRules` lists for `json`, as [path, trámite or '-', message]. */
const problemsOf = (json: unknown): [string, string, string][] => {
  const error = thrownAppError(() => parseRules(json, 'r.json'))
  expect(error.code).toBe('TRAMITE_RULES_INVALID')
  expect(error.details.file).toBe('r.json')
  const problems = error.details.problems as { path: string; rule?: string; message: string }[]
  return problems.map((p) => [p.path, p.rule ?? '-', p.message])
}

/** A document with these rules after a valid first one (`a`). */
const withRule = (...rules: unknown[]) => ({
  version: 'v1',
  tramites: [{ id: 'a', label: 'A', keywords: ['pago'] }, ...rules],
})

const SENDERS = 'customer, agent, bot, other'

describe('the refusals of a rules document', () => {
  it('names what the root is when it is not an object', () => {
    const wanted = 'must be an object with "version" and "tramites", got'
    expect(problemsOf([])).toEqual([['(root)', '-', `${wanted} an array`]])
    expect(problemsOf(null)).toEqual([['(root)', '-', `${wanted} null`]])
    expect(problemsOf(5)).toEqual([['(root)', '-', `${wanted} a number`]])
  })

  it('lists each top-level problem, in the order of the checks', () => {
    expect(problemsOf({ version: ' ', tramites: [], extra: 1, description: 5 })).toEqual([
      ['extra', '-', 'unknown field (allowed: version, description, tramites)'],
      ['description', '-', 'must be a string when present'],
      ['version', '-', 'must be a non-empty string, e.g. "2025.06.1" or "1.4.0"'],
      ['tramites', '-', 'must be a non-empty array of trámites'],
    ])
    expect(problemsOf({ version: 2, tramites: {} })).toEqual([
      ['version', '-', 'must be a non-empty string, e.g. "2025.06.1" or "1.4.0"'],
      ['tramites', '-', 'must be a non-empty array of trámites'],
    ])
  })

  it('refuses every field of a rule whose id is not valid, without naming a trámite', () => {
    expect(
      problemsOf(
        withRule({
          id: 'Bad Id',
          label: ' ',
          description: 1,
          phrases: 'x',
          keywords: ['dos palabras', 7],
          allOf: [['a']],
          senders: [],
          priority: '1',
        }),
      ),
    ).toEqual([
      [
        'tramites[1].id',
        '-',
        'must be a string of lower-case letters, digits, "-" or "_", got "Bad Id"',
      ],
      ['tramites[1].label', '-', 'must be a non-empty string'],
      ['tramites[1].description', '-', 'must be a string when present'],
      ['tramites[1].phrases', '-', 'must be an array of strings, got a string'],
      [
        'tramites[1].keywords[0]',
        '-',
        '"dos palabras": has 2 words; put multi-word terms in phrases',
      ],
      ['tramites[1].keywords[1]', '-', 'must be a string, got a number'],
      ['tramites[1].allOf', '-', 'must be an array of 2 to 8 groups, each an array of terms'],
      ['tramites[1].senders', '-', `must be a non-empty array of ${SENDERS}`],
      ['tramites[1].priority', '-', 'must be a finite number (higher wins ties)'],
    ])
  })

  it('shows an id that is not a string as what it is', () => {
    const id = (value: unknown) => problemsOf(withRule({ id: value, label: 'B', keywords: ['b'] }))
    const wanted = 'must be a string of lower-case letters, digits, "-" or "_", got'
    expect(id(undefined)).toEqual([['tramites[1].id', '-', `${wanted} nothing`]])
    expect(id(7)).toEqual([['tramites[1].id', '-', `${wanted} 7`]])
    expect(id({})).toEqual([['tramites[1].id', '-', `${wanted} an object`]])
    expect(id(null)).toEqual([['tramites[1].id', '-', `${wanted} null`]])
    // The whole id must match: a valid start is not enough.
    expect(id('b c')).toEqual([['tramites[1].id', '-', `${wanted} "b c"`]])
    expect(id('-b')).toEqual([['tramites[1].id', '-', `${wanted} "-b"`]])
  })

  it('names the trámite of each problem of a rule with a valid id', () => {
    expect(
      problemsOf(
        withRule({
          id: 'b',
          label: 'B',
          keywords: ['pago', 'Pagó'],
          exclusions: ['pago', 'x', 'X'],
          allOf: [['uno'], []],
          senders: ['customer', 'customer', 'robot'],
          other: true,
        }),
      ),
    ).toEqual([
      [
        'tramites[1].other',
        'b',
        'unknown field (allowed: id, label, phrases, keywords, allOf, exclusions, senders, priority, description)',
      ],
      ['tramites[1].allOf[1]', 'b', 'must be a non-empty array of terms'],
      [
        'tramites[1].keywords[1]',
        'b',
        '"Pagó": the same term as keywords[0] once accents and case are ignored',
      ],
      [
        'tramites[1].exclusions[2]',
        'b',
        '"X": the same term as exclusions[1] once accents and case are ignored',
      ],
      [
        'tramites[1].exclusions[0]',
        'b',
        '"pago": also a phrase or keyword of this trámite, which it would always cancel',
      ],
      ['tramites[1].senders[1]', 'b', 'repeats "customer"'],
      ['tramites[1].senders[2]', 'b', `must be one of ${SENDERS}`],
    ])
  })

  it('refuses a duplicate id, and a rule with nothing to match', () => {
    expect(
      problemsOf(
        withRule({ id: 'a', label: 'A2', keywords: ['x'] }, { id: 'c', label: 'C', keywords: [] }),
      ),
    ).toEqual([
      ['tramites[1].id', 'a', 'duplicates the id of tramites[0]'],
      ['tramites[2]', 'c', 'needs at least one of phrases, keywords or allOf'],
    ])
    expect(problemsOf(withRule({ id: 'd', label: 'D' }))).toEqual([
      ['tramites[1]', 'd', 'needs at least one of phrases, keywords or allOf'],
    ])
    expect(problemsOf(withRule('d'))).toEqual([
      ['tramites[1]', '-', 'must be an object, got a string'],
    ])
  })

  it('takes 2 to 8 allOf groups, and a finite priority', () => {
    const groups = (n: number) => Array.from({ length: n }, (_, i) => [`w${i}`])
    const allOf = (n: number) => withRule({ id: 'g', label: 'G', allOf: groups(n) })
    expect(parseRules(allOf(2), 'r.json').tramites[1]!.allOf).toEqual(groups(2))
    expect(parseRules(allOf(8), 'r.json').tramites[1]!.allOf).toEqual(groups(8))
    expect(problemsOf(allOf(9))).toEqual([
      ['tramites[1].allOf', 'g', 'must be an array of 2 to 8 groups, each an array of terms'],
    ])
    const priority = (value: unknown) =>
      withRule({ id: 'p', label: 'P', keywords: ['x'], priority: value })
    expect(parseRules(priority(-3.5), 'r.json').tramites[1]!.priority).toBe(-3.5)
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1'])
      expect(problemsOf(priority(bad))).toEqual([
        ['tramites[1].priority', 'p', 'must be a finite number (higher wins ties)'],
      ])
  })

  it('names an exclusion and an allOf term by their own paths, and a term repeated in a group', () => {
    expect(
      problemsOf(
        withRule({
          id: 'x',
          label: 'X',
          allOf: [['correo', 'Correo'], ['cambi*']],
          exclusions: ['ya', 'no *'],
        }),
      ),
    ).toEqual([
      ['tramites[1].exclusions[1]', 'x', expect.stringMatching(/^"no \*": /)],
      [
        'tramites[1].allOf[0][1]',
        'x',
        '"Correo": the same term as allOf[0][0] once accents and case are ignored',
      ],
    ])
  })

  it('counts the problems in the message, one line each', () => {
    const one = thrownAppError(() =>
      parseRules(withRule({ id: 'b', label: '', keywords: ['b'] }), 'f.json'),
    )
    expect(one.message).toBe(
      'Rules file f.json has 1 problem:\n  - tramites[1].label (trámite "b"): must be a non-empty string',
    )
    const two = thrownAppError(() => parseRules({ version: '', tramites: 1 }, 'f.json'))
    expect(two.message).toBe(
      'Rules file f.json has 2 problems:\n' +
        '  - version: must be a non-empty string, e.g. "2025.06.1" or "1.4.0"\n' +
        '  - tramites: must be a non-empty array of trámites',
    )
  })
})

describe('what a valid rules document becomes', () => {
  it('fills in what a trámite leaves out: empty lists, customers, priority 0', () => {
    expect(
      parseRules(withRule({ id: 'b', label: 'B', keywords: ['b'] }), 'r.json').tramites[1],
    ).toEqual({
      id: 'b',
      label: 'B',
      phrases: [],
      keywords: ['b'],
      allOf: [],
      exclusions: [],
      senders: ['customer'],
      priority: 0,
    })
  })

  it('trims the version and labels, keeps a description, and adds no description it lacks', () => {
    const rules = parseRules(
      {
        version: ' v2 ',
        description: 'all',
        tramites: [
          { id: 'a', label: ' A ', description: 'first', keywords: ['x'] },
          { id: 'b', label: 'B', phrases: ['dos palabras'] },
        ],
      },
      'r.json',
    )
    expect(rules.version).toBe('v2')
    expect(rules.tramites[0]).toStrictEqual({
      id: 'a',
      label: 'A',
      description: 'first',
      phrases: [],
      keywords: ['x'],
      allOf: [],
      exclusions: [],
      senders: ['customer'],
      priority: 0,
    })
    expect('description' in rules.tramites[1]!).toBe(false)
  })
})

describe('reading a rules file', () => {
  it('names the file and the reason it cannot be read, or its JSON error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-messages-'))
    try {
      const missing = join(dir, 'missing.json')
      const unreadable = thrownAppError(() => loadRules(missing))
      expect([unreadable.code, unreadable.message, unreadable.details]).toEqual([
        'TRAMITE_RULES_FILE_UNREADABLE',
        `Cannot read rules file ${missing} (ENOENT)`,
        { file: missing },
      ])
      const broken = join(dir, 'broken.json')
      writeFileSync(broken, '{"version": ')
      const invalid = thrownAppError(() => loadRules(broken))
      expect(invalid.code).toBe('TRAMITE_RULES_INVALID')
      expect(invalid.message).toMatch(
        new RegExp(`^Rules file ${broken} has 1 problem:\\n  - \\(file\\): is not valid JSON: `),
      )
      const good = join(dir, 'good.json')
      writeFileSync(good, JSON.stringify(withRule()))
      expect(loadRules(good).tramites.map((t) => t.id)).toEqual(['a'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
