import { readFileSync } from 'node:fs'
import { AppError } from '@wolkvox-chat-stream/errors'
import { parseTerm, termKey } from './terms.js'
import { senders, type RuleSet, type Sender, type TramiteRule } from './types.js'

/** One thing wrong in a rules file. */
export interface RulesProblem {
  /** JSON path inside the file, e.g. `tramites[3].keywords[2]`. */
  path: string
  /** Id of the trámite concerned, when it has a readable one. */
  rule?: string
  message: string
}

const topLevelFields = ['version', 'description', 'tramites']
const ruleFields = [
  'id',
  'label',
  'phrases',
  'keywords',
  'allOf',
  'exclusions',
  'senders',
  'priority',
  'description',
]
const idPattern = /^[a-z0-9][a-z0-9_-]*$/
/** Bounds that keep a rule set reviewable and the allOf bookkeeping within one 32-bit mask. */
const maxAllOfGroups = 8

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const describe = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  // A value read from JSON: an object, a string, a number or a boolean.
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** A value as JSON when a string, number or boolean, else described (deep JSON overflowed). */
const shown = (value: unknown): string =>
  value === undefined
    ? 'nothing'
    : typeof value === 'object' && value !== null
      ? describe(value)
      : JSON.stringify(value)

/**
 * Validates a parsed rules document and fills in defaults (`senders: ['customer']`,
 * `priority: 0`, empty lists). Every problem is collected before throwing.
 *
 * @param fileName - named in every problem, so errors point at the file to fix.
 * @throws AppError `TRAMITE_RULES_INVALID` listing each problem (path, rule id, field), with
 *   `details.file` and `details.problems`.
 */
export function parseRules(json: unknown, fileName: string): RuleSet {
  const problems: RulesProblem[] = []
  const problem = (path: string, message: string, rule?: string): void => {
    problems.push(rule === undefined ? { path, message } : { path, rule, message })
  }

  if (!isObject(json)) {
    problem('(root)', `must be an object with "version" and "tramites", got ${describe(json)}`)
    throw rulesInvalid(fileName, problems)
  }
  for (const key of Object.keys(json)) {
    if (!topLevelFields.includes(key))
      problem(key, `unknown field (allowed: ${topLevelFields.join(', ')})`)
  }
  const version = json.version
  if (json.description !== undefined && typeof json.description !== 'string')
    problem('description', 'must be a string when present')
  if (typeof version !== 'string' || version.trim() === '')
    problem('version', 'must be a non-empty string, e.g. "2025.06.1" or "1.4.0"')

  const tramites: TramiteRule[] = []
  if (!Array.isArray(json.tramites) || json.tramites.length === 0) {
    problem('tramites', 'must be a non-empty array of trámites')
  } else {
    const seenIds = new Map<string, number>()
    json.tramites.forEach((raw: unknown, index: number) => {
      const rule = parseRule(raw, `tramites[${index}]`, problem)
      if (rule === undefined) return
      const earlier = seenIds.get(rule.id)
      if (earlier !== undefined)
        problem(`tramites[${index}].id`, `duplicates the id of tramites[${earlier}]`, rule.id)
      else seenIds.set(rule.id, index)
      tramites.push(rule)
    })
  }
  if (problems.length > 0) throw rulesInvalid(fileName, problems)
  return { version: (version as string).trim(), tramites }
}

type Report = (path: string, message: string, rule?: string) => void

function parseRule(raw: unknown, at: string, problem: Report): TramiteRule | undefined {
  if (!isObject(raw)) {
    problem(at, `must be an object, got ${describe(raw)}`)
    return undefined
  }
  const id = typeof raw.id === 'string' && idPattern.test(raw.id) ? raw.id : undefined
  const report: Report = (path, message) => problem(path, message, id)
  if (id === undefined)
    report(
      `${at}.id`,
      `must be a string of lower-case letters, digits, "-" or "_", got ${shown(raw.id)}`,
    )
  for (const key of Object.keys(raw)) {
    if (!ruleFields.includes(key))
      report(`${at}.${key}`, `unknown field (allowed: ${ruleFields.join(', ')})`)
  }
  if (typeof raw.label !== 'string' || raw.label.trim() === '')
    report(`${at}.label`, 'must be a non-empty string')
  if (raw.description !== undefined && typeof raw.description !== 'string')
    report(`${at}.description`, 'must be a string when present')

  const phrases = termList(raw.phrases, `${at}.phrases`, report)
  const keywords = termList(raw.keywords, `${at}.keywords`, report, { singleWord: true })
  const exclusions = termList(raw.exclusions, `${at}.exclusions`, report)
  const allOf: string[][] = []
  if (raw.allOf !== undefined) {
    if (!Array.isArray(raw.allOf) || raw.allOf.length < 2 || raw.allOf.length > maxAllOfGroups) {
      report(
        `${at}.allOf`,
        `must be an array of 2 to ${maxAllOfGroups} groups, each an array of terms`,
      )
    } else {
      raw.allOf.forEach((group: unknown, g: number) => {
        const path = `${at}.allOf[${g}]`
        if (!Array.isArray(group) || group.length === 0)
          report(path, 'must be a non-empty array of terms')
        else allOf.push(termList(group, path, report))
      })
    }
  }
  checkDuplicates(
    [
      ...phrases.map((t, i) => [t, `phrases[${i}]`] as const),
      ...keywords.map((t, i) => [t, `keywords[${i}]`] as const),
    ],
    at,
    report,
  )
  allOf.forEach((group, g) =>
    checkDuplicates(
      group.map((t, i) => [t, `allOf[${g}][${i}]`] as const),
      at,
      report,
    ),
  )
  checkDuplicates(
    exclusions.map((t, i) => [t, `exclusions[${i}]`] as const),
    at,
    report,
  )
  const scoring = new Set([...phrases, ...keywords].map(keyOf))
  exclusions.forEach((term, i) => {
    if (scoring.has(keyOf(term)))
      report(
        `${at}.exclusions[${i}]`,
        `"${term}": also a phrase or keyword of this trámite, which it would always cancel`,
      )
  })
  const given = (list: unknown): boolean => Array.isArray(list) && list.length > 0
  if (!given(raw.phrases) && !given(raw.keywords) && !given(raw.allOf))
    report(at, 'needs at least one of phrases, keywords or allOf')

  let ruleSenders: Sender[] = ['customer']
  if (raw.senders !== undefined) {
    const list = raw.senders
    if (!Array.isArray(list) || list.length === 0) {
      report(`${at}.senders`, `must be a non-empty array of ${senders.join(', ')}`)
    } else {
      ruleSenders = []
      list.forEach((sender: unknown, i: number) => {
        if (typeof sender !== 'string' || !senders.includes(sender as Sender))
          report(`${at}.senders[${i}]`, `must be one of ${senders.join(', ')}`)
        else if (ruleSenders.includes(sender as Sender))
          report(`${at}.senders[${i}]`, `repeats "${sender}"`)
        else ruleSenders.push(sender as Sender)
      })
    }
  }
  let priority = 0
  if (raw.priority !== undefined) {
    if (typeof raw.priority !== 'number' || !Number.isFinite(raw.priority))
      report(`${at}.priority`, 'must be a finite number (higher wins ties)')
    else priority = raw.priority
  }
  return {
    id: id ?? '',
    label: typeof raw.label === 'string' ? raw.label.trim() : '',
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    phrases,
    keywords,
    allOf,
    exclusions,
    senders: ruleSenders,
    priority,
  }
}

function termList(
  value: unknown,
  at: string,
  report: Report,
  options: { singleWord?: boolean } = {},
): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    report(at, `must be an array of strings, got ${describe(value)}`)
    return []
  }
  const terms: string[] = []
  value.forEach((term: unknown, i: number) => {
    const path = `${at}[${i}]`
    if (typeof term !== 'string') {
      report(path, `must be a string, got ${describe(term)}`)
      return
    }
    const parsed = parseTerm(term)
    if (typeof parsed === 'string') report(path, `"${term}": ${parsed}`)
    else if (options.singleWord && parsed.words.length > 1)
      report(path, `"${term}": has ${parsed.words.length} words; put multi-word terms in phrases`)
    else terms.push(term)
  })
  return terms
}

/** Folded key of a term already known to be valid. */
const keyOf = (term: string): string => {
  const parsed = parseTerm(term)
  return typeof parsed === 'string' ? term : termKey(parsed)
}

function checkDuplicates(
  terms: readonly (readonly [string, string])[],
  at: string,
  report: Report,
): void {
  const seen = new Map<string, string>()
  for (const [term, field] of terms) {
    const key = keyOf(term)
    const earlier = seen.get(key)
    if (earlier !== undefined)
      report(
        `${at}.${field}`,
        `"${term}": the same term as ${earlier} once accents and case are ignored`,
      )
    else seen.set(key, field)
  }
}

function rulesInvalid(fileName: string, problems: RulesProblem[]): AppError {
  const lines = problems.map(
    (p) => `  - ${p.path}${p.rule === undefined ? '' : ` (trámite "${p.rule}")`}: ${p.message}`,
  )
  return new AppError(
    'TRAMITE_RULES_INVALID',
    `Rules file ${fileName} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
    { details: { file: fileName, problems } },
  )
}

/**
 * Reads and validates a rules file (JSON).
 *
 * @throws AppError `TRAMITE_RULES_FILE_UNREADABLE` when the file cannot be read, and
 *   `TRAMITE_RULES_INVALID` when it is not JSON or fails {@link parseRules}.
 */
export function loadRules(path: string): RuleSet {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read error'
    throw new AppError(
      'TRAMITE_RULES_FILE_UNREADABLE',
      `Cannot read rules file ${path} (${reason})`,
      {
        cause,
        details: { file: path },
      },
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw rulesInvalid(path, [
      { path: '(file)', message: `is not valid JSON: ${(cause as Error).message}` },
    ])
  }
  return parseRules(json, path)
}
