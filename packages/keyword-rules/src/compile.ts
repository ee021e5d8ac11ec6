import { buildMatcher, type Matcher, type MatcherPattern } from './matcher.js'
import { parseTerm } from './terms.js'
import type { RuleSet, Sender, TramiteRule } from './types.js'
import { formKey, termForms, type TermForms } from './variants.js'

/** Kinds of term reference, as stored in {@link CompiledRules}. */
export const kindKeyword = 0
export const kindPhrase = 1
export const kindAllOf = 2
export const kindExclusion = 3

/** Weight of one distinct matched term by kind; a satisfied allOf weighs as a phrase. */
export const termWeights = { keyword: 1, phrase: 2, allOf: 2 } as const

/** A rule set compiled into one matcher. Build once with {@link compileRules}, reuse freely. */
export interface CompiledRules {
  readonly version: string
  readonly tramites: readonly TramiteRule[]
  readonly matcher: Matcher
  /** @internal Lookup tables and reusable buffers for classification. */
  readonly plan: Plan
}

/** @internal */
export interface Plan {
  /** References of pattern `p`: `refStart[p]` to `refStart[p + 1]`. */
  refStart: Int32Array
  refRule: Int32Array
  refKind: Int32Array
  /** allOf group of the reference (allOf only). */
  refGroup: Int32Array
  /** Index of the term among the scoring terms (keyword and phrase only), else -1. */
  refSlot: Int32Array
  /** The term as written in the rules file. */
  refTerm: string[]
  /** 1 when the reference is a one-slip form of its term (variants.ts). */
  refTypo: Uint8Array
  /**
   * For a term with a prefix word before its end (`cancel* la factura`), its compound index: the
   * term is split after each prefix word into segments, each a pattern of its own, and the
   * reference sits on the last segment. -1 for a term that is a single pattern.
   */
  refCompound: Int32Array
  /** Segment patterns of compound `c`, first to last: `compoundStart[c]` to `compoundStart[c + 1]`. */
  compoundStart: Int32Array
  compoundPatterns: Int32Array
  ruleSenderMask: Int32Array
  /** Bit mask of all allOf groups of the rule; 0 when it has none. */
  ruleAllOfMask: Int32Array
  /** Union of the rules' sender masks: a message from another sender is not even scanned. */
  senderMask: number
  // Reusable per-classification state, reset after each use.
  slotSeen: Uint8Array
  ruleWeight: Float64Array
  ruleAllOfDone: Uint8Array
  ruleGroups: Int32Array
  touched: number[]
}

interface Ref {
  pattern: number
  rule: number
  kind: number
  group: number
  slot: number
  term: string
  compound: number
  typo: boolean
}

/** The bit of a sender in a sender mask; unknown values count as `other`. */
export function senderBit(sender: Sender): number {
  switch (sender) {
    case 'customer':
      return 1
    case 'agent':
      return 2
    case 'bot':
      return 4
    default:
      return 8
  }
}

/**
 * Compiles a validated rule set into one matcher: every phrase, keyword, allOf term and
 * exclusion of every trámite, in each of its forms (its spelling fold, chat abbreviations and
 * one-slip forms, variants.ts), becomes a pattern of a single automaton that reads the text
 * through the spelling fold (forms that read the same share one pattern).
 *
 * @throws AppError `TRAMITE_RULES_INVALID` when the automaton would be too large (tens of
 *   thousands of terms over thousands of distinct characters); Error when a term is invalid,
 *   which {@link parseRules} reports first, with context.
 */
export function compileRules(rules: RuleSet): CompiledRules {
  const patterns: MatcherPattern[] = []
  const patternIndex = new Map<string, number>()
  const patternOf = (words: string[]): number => {
    const key = words.join(' ')
    let pattern = patternIndex.get(key)
    if (pattern === undefined) {
      pattern = patterns.length
      const last = words.length - 1
      patterns.push({
        words: words.map((w, i) => (i === last && w.endsWith('*') ? w.slice(0, -1) : w)),
        prefix: words[last]!.endsWith('*'),
      })
      patternIndex.set(key, pattern)
    }
    return pattern
  }
  const compounds: number[][] = []
  const compoundIndex = new Map<string, number>()
  const refs: Ref[] = []
  let slots = 0

  // Every term's forms first: a slip of one term that spells another term exactly is dropped.
  interface Entry {
    rule: number
    term: string
    kind: number
    group: number
    forms: TermForms
  }
  const entries: Entry[] = []
  const exactKeys = new Set<string>()
  const entry = (rule: number, term: string, kind: number, group = -1): void => {
    const parsed = parseTerm(term)
    if (typeof parsed === 'string') throw new Error(`Invalid term "${term}": ${parsed}`)
    const forms = termForms(parsed.words)
    for (const form of forms.exact) exactKeys.add(formKey(form))
    entries.push({ rule, term, kind, group, forms })
  }
  rules.tramites.forEach((rule, r) => {
    for (const term of rule.phrases) entry(r, term, kindPhrase)
    for (const term of rule.keywords) entry(r, term, kindKeyword)
    rule.allOf.forEach((group, g) => group.forEach((term) => entry(r, term, kindAllOf, g)))
    for (const term of rule.exclusions) entry(r, term, kindExclusion)
  })

  // A form claimed by one term of a rule (and kind, and group) is not counted again for another
  // term of the same rule that reads the same (`certificad*` and `sertificad*`).
  const claimed = new Set<string>()
  const addForm = (e: Entry, words: string[], slot: number, typo: boolean): void => {
    const key = formKey(words)
    const claim = `${e.rule}|${e.kind}|${e.group}|${key}`
    if (claimed.has(claim)) return
    claimed.add(claim)
    const segments: number[] = []
    let segment: string[] = []
    for (const word of words) {
      segment.push(word)
      if (word.endsWith('*')) {
        segments.push(patternOf(segment))
        segment = []
      }
    }
    if (segment.length > 0) segments.push(patternOf(segment))
    let compound = -1
    if (segments.length > 1) {
      compound = compoundIndex.get(key) ?? compounds.length
      if (compound === compounds.length) {
        compounds.push(segments)
        compoundIndex.set(key, compound)
      }
    }
    refs.push({
      pattern: segments[segments.length - 1]!,
      rule: e.rule,
      kind: e.kind,
      group: e.group,
      slot,
      term: e.term,
      compound,
      typo,
    })
  }
  for (const e of entries) {
    const slot = e.kind === kindKeyword || e.kind === kindPhrase ? slots++ : -1
    for (const form of e.forms.exact) addForm(e, form, slot, false)
    for (const form of e.forms.typos)
      if (!exactKeys.has(formKey(form))) addForm(e, form, slot, true)
  }
  refs.sort((a, b) => a.pattern - b.pattern)
  const refStart = new Int32Array(patterns.length + 1)
  for (const ref of refs) refStart[ref.pattern + 1]!++
  for (let p = 0; p < patterns.length; p++) refStart[p + 1]! += refStart[p]!

  const ruleCount = rules.tramites.length
  const ruleSenderMask = Int32Array.from(rules.tramites, (rule) =>
    rule.senders.reduce((mask, sender) => mask | senderBit(sender), 0),
  )
  const plan: Plan = {
    refStart,
    refRule: Int32Array.from(refs, (ref) => ref.rule),
    refKind: Int32Array.from(refs, (ref) => ref.kind),
    refGroup: Int32Array.from(refs, (ref) => ref.group),
    refSlot: Int32Array.from(refs, (ref) => ref.slot),
    refTerm: refs.map((ref) => ref.term),
    refTypo: Uint8Array.from(refs, (ref) => (ref.typo ? 1 : 0)),
    refCompound: Int32Array.from(refs, (ref) => ref.compound),
    compoundStart: Int32Array.from({ length: compounds.length + 1 }, (_, c) =>
      compounds.slice(0, c).reduce((n, segments) => n + segments.length, 0),
    ),
    compoundPatterns: Int32Array.from(compounds.flat()),
    ruleSenderMask,
    ruleAllOfMask: Int32Array.from(rules.tramites, (rule) => (1 << rule.allOf.length) - 1),
    senderMask: ruleSenderMask.reduce((all, mask) => all | mask, 0),
    slotSeen: new Uint8Array(slots),
    ruleWeight: new Float64Array(ruleCount),
    ruleAllOfDone: new Uint8Array(ruleCount),
    ruleGroups: new Int32Array(ruleCount),
    touched: [],
  }
  return {
    version: rules.version,
    // A copy, so that editing the rule set afterwards cannot change what results say.
    tramites: Object.freeze(rules.tramites.map((rule) => Object.freeze({ ...rule }))),
    matcher: buildMatcher(patterns, `rules ${rules.version}`, { spelling: true }),
    plan,
  }
}
