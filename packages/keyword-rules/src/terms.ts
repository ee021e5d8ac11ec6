import { CLAUSE_BREAK, foldCodeUnit, normalizeText } from './fold.js'

/** A rule term folded into the words the matcher compares. */
export interface ParsedTerm {
  /** Folded words; a word ending in `*` is a prefix, e.g. `['cancel*', 'la', 'factura']`. */
  words: string[]
}

/** Shortest prefix before `*`, so that `a*` cannot match half the language. */
export const minPrefixLength = 3

const isWordUnit = (text: string, index: number): boolean =>
  index >= 0 && index < text.length && typeof foldCodeUnit(text.charCodeAt(index)) === 'string'

/**
 * Folds a term as written in a rules file. Returns the problem as a sentence when the term can
 * never match or is ambiguous.
 */
export function parseTerm(raw: string): ParsedTerm | string {
  const body = raw.trim()
  const stars = new Set<number>()
  for (let i = 0; i < body.length; i++) {
    const unit = foldCodeUnit(body.charCodeAt(i))
    if (body[i] === '*') {
      if (!isWordUnit(body, i - 1)) return '`*` must follow a letter or digit directly'
      if (isWordUnit(body, i + 1)) return '`*` may only end a word (`certificad*`)'
      stars.add(i)
    } else if (unit === CLAUSE_BREAK) {
      return `contains "${body[i]}", which ends a clause; a term never spans clauses, so it could never match`
    }
  }
  const normalized = normalizeText(body)
  if (normalized.text === '') return 'has no letters or digits'
  const words: string[] = []
  let at = 0
  for (const word of normalized.text.split(' ')) {
    at += word.length
    // `end` of a word's last unit is the original offset right after it: is a `*` there?
    const prefix = stars.has(normalized.end[at - 1]!)
    at += 1
    if (prefix && word.length < minPrefixLength)
      return `a prefix needs at least ${minPrefixLength} letters before \`*\` ("${word}*")`
    words.push(prefix ? `${word}*` : word)
  }
  return { words }
}

/** The key under which two terms are the same after folding (`Certificádo` = `certificado`). */
export function termKey(term: ParsedTerm): string {
  return term.words.join(' ')
}
