import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isAppError, type AppError } from '@wolkvox-chat-stream/errors'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRules, parseRules, type RulesProblem } from './rules.js'

const shippedRules = fileURLToPath(
  new URL('../../../services/tramite-classifier/rules/tramites.es.json', import.meta.url),
)

function problemsOf(json: unknown): { error: AppError; problems: RulesProblem[] } {
  try {
    parseRules(json, 'rules/test.json')
  } catch (error) {
    if (!isAppError(error, 'TRAMITE_RULES_INVALID')) throw error
    return { error, problems: error.details.problems as RulesProblem[] }
  }
  throw new Error('expected TRAMITE_RULES_INVALID')
}

describe('parseRules', () => {
  it('fills in defaults', () => {
    const rules = parseRules(
      { version: ' 1.0.0 ', tramites: [{ id: 'pago', label: 'Pagos', keywords: ['pago'] }] },
      'r.json',
    )
    expect(rules).toEqual({
      version: '1.0.0',
      tramites: [
        {
          id: 'pago',
          label: 'Pagos',
          phrases: [],
          keywords: ['pago'],
          allOf: [],
          exclusions: [],
          senders: ['customer'],
          priority: 0,
        },
      ],
    })
  })

  it('lists every problem with file, trámite and field', () => {
    const { error, problems } = problemsOf({
      version: 3,
      tramite: [],
      tramites: [
        { id: 'Pago', label: '', keywords: ['pago y factura', 'ab*'] },
        {
          id: 'cita',
          label: 'Citas',
          phrases: ['cit*a previa'],
          keywords: ['Cita', 'cíta'],
          allOf: [['agendar']],
          senders: ['customer', 'robot', 'customer'],
          priority: '1',
          priorty: 2,
        },
        { id: 'cita', label: 'Otra', exclusions: ['no'] },
        'queja',
      ],
    })
    expect(error.message).toMatch(/^Rules file rules\/test\.json has 16 problems:\n/)
    expect(error.details.file).toBe('rules/test.json')
    expect(problems).toEqual([
      { path: 'tramite', message: expect.stringContaining('unknown field') },
      { path: 'version', message: expect.stringContaining('non-empty string') },
      { path: 'tramites[0].id', message: expect.stringContaining('got "Pago"') },
      { path: 'tramites[0].label', message: 'must be a non-empty string' },
      {
        path: 'tramites[0].keywords[0]',
        message: '"pago y factura": has 3 words; put multi-word terms in phrases',
      },
      {
        path: 'tramites[0].keywords[1]',
        message: expect.stringContaining('at least 3 letters'),
      },
      {
        path: 'tramites[1].priorty',
        rule: 'cita',
        message: expect.stringContaining('unknown field'),
      },
      {
        path: 'tramites[1].phrases[0]',
        rule: 'cita',
        message: expect.stringContaining('may only end a word'),
      },
      {
        path: 'tramites[1].allOf',
        rule: 'cita',
        message: expect.stringContaining('2 to 8 groups'),
      },
      {
        path: 'tramites[1].keywords[1]',
        rule: 'cita',
        message: '"cíta": the same term as keywords[0] once accents and case are ignored',
      },
      {
        path: 'tramites[1].senders[1]',
        rule: 'cita',
        message: 'must be one of customer, agent, bot, other',
      },
      { path: 'tramites[1].senders[2]', rule: 'cita', message: 'repeats "customer"' },
      {
        path: 'tramites[1].priority',
        rule: 'cita',
        message: expect.stringContaining('finite number'),
      },
      {
        path: 'tramites[2]',
        rule: 'cita',
        message: 'needs at least one of phrases, keywords or allOf',
      },
      { path: 'tramites[2].id', rule: 'cita', message: 'duplicates the id of tramites[1]' },
      { path: 'tramites[3]', message: 'must be an object, got a string' },
    ])
    expect(error.message).toContain(
      '  - tramites[1].senders[1] (trámite "cita"): must be one of customer, agent, bot, other',
    )
  })

  it('refuses an exclusion that would always cancel a term of its own trámite', () => {
    expect(
      problemsOf({
        version: '1',
        tramites: [{ id: 'a', label: 'A', keywords: ['cancel*'], exclusions: ['Cancel*'] }],
      }).problems,
    ).toEqual([
      {
        path: 'tramites[0].exclusions[0]',
        rule: 'a',
        message:
          '"Cancel*": also a phrase or keyword of this trámite, which it would always cancel',
      },
    ])
  })

  it('refuses a document that is not an object', () => {
    expect(problemsOf([]).problems).toEqual([
      { path: '(root)', message: 'must be an object with "version" and "tramites", got an array' },
    ])
  })
})

describe('loadRules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramite-rules-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('names a missing file', () => {
    const path = join(dir, 'missing.json')
    expect(() => loadRules(path)).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_RULES_FILE_UNREADABLE',
        message: `Cannot read rules file ${path} (ENOENT)`,
      }),
    )
  })

  it('names the file and the JSON error', () => {
    const path = join(dir, 'broken.json')
    writeFileSync(path, '{"version": "1", "tramites": [,]}')
    expect(() => loadRules(path)).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_RULES_INVALID',
        message: expect.stringMatching(
          /broken\.json has 1 problem:\n {2}- \(file\): is not valid JSON/,
        ),
      }),
    )
  })

  it('loads the shipped Spanish rule set', () => {
    const rules = loadRules(shippedRules)
    expect(rules.version).toMatch(/^\d{4}\.\d+\.\d+$/)
    expect(rules.tramites.length).toBeGreaterThanOrEqual(12)
    for (const rule of rules.tramites) expect(rule.senders).toEqual(['customer'])
  })
})
