/**
 * Accent and case folding, one UTF-16 code unit at a time, shared by the rule compiler and the
 * matcher so that a term and the text it should match are folded by the same code.
 */

/** The code unit separates words (space, most punctuation, symbols, emoji halves). */
export const SEPARATOR = -1
/** The code unit separates words and also ends a clause: `. , ; : ! ? ¡ ¿ …` and line breaks. */
export const CLAUSE_BREAK = -2
/** The code unit is dropped without ending the word: combining marks, soft hyphen, zero-width. */
export const IGNORABLE = -3

/** Folded letters and digits of one code unit, or one of the negative classes above. */
export type FoldedUnit = string | typeof SEPARATOR | typeof CLAUSE_BREAK | typeof IGNORABLE

const clauseBreaks = new Set([
  '.',
  ',',
  ';',
  ':',
  '!',
  '?',
  '¡',
  '¿',
  '…',
  '\n',
  '\r',
  '\u2028',
  '\u2029',
])
const markOrFormat = /^[\p{M}\p{Cf}]$/u
const combiningMarks = /\p{M}/gu
const lettersAndDigits = /^[\p{L}\p{N}]+$/u
const astral = /[\uD800-\uDFFF]/

const cache = new Map<number, FoldedUnit>()

function computeFold(code: number): FoldedUnit {
  // Lone surrogate halves (emoji and other astral characters) are separators: letters outside
  // the Basic Multilingual Plane do not occur in Spanish chat.
  if (code >= 0xd800 && code <= 0xdfff) return SEPARATOR
  const char = String.fromCharCode(code)
  if (clauseBreaks.has(char)) return CLAUSE_BREAK
  if (markOrFormat.test(char)) return IGNORABLE
  // Lower-case between two decompositions: `İ` lower-cases to `i` plus a combining dot.
  const folded = char.normalize('NFD').toLowerCase().normalize('NFD').replace(combiningMarks, '')
  if (folded === '') return IGNORABLE
  // Seven CJK compatibility ideographs (U+FA6C …) decompose outside the BMP: separators too, as
  // their decomposition is, so that folding folded text changes nothing.
  if (astral.test(folded)) return SEPARATOR
  return lettersAndDigits.test(folded) ? folded : SEPARATOR
}

/**
 * Folds one UTF-16 code unit: `Á` → `a`, `ñ` → `n`, `Ü` → `u`, `A`–`Z` → `a`–`z`; letters and
 * digits of other scripts are kept lower-cased. Results are cached per code unit.
 */
export function foldCodeUnit(code: number): FoldedUnit {
  let folded = cache.get(code)
  if (folded === undefined) {
    folded = computeFold(code)
    cache.set(code, folded)
  }
  return folded
}

/** Text folded for matching, with the way back to the original offsets. */
export interface NormalizedText {
  /** The words (runs of folded letters and digits) joined by single spaces. */
  text: string
  /** Original offset where the source of each UTF-16 unit of `text` starts. */
  start: number[]
  /** Original offset just after the source of each UTF-16 unit of `text`. */
  end: number[]
  /** Clause number (0-based) of each word, counted by clause breaks before it. */
  wordClauses: number[]
}

/**
 * Normalises text as the matcher sees it: Unicode NFD with combining marks removed (accents,
 * tilde of `ñ`), lower case, every run of non-letters and non-digits collapsed to one space,
 * leading and trailing separators dropped. `start`/`end` map each normalised unit back to the
 * original text (a space maps to the whole separator run it replaces).
 */
export function normalizeText(input: string): NormalizedText {
  let text = ''
  const start: number[] = []
  const end: number[] = []
  const wordClauses: number[] = []
  let clause = 0
  let inWord = false
  let gapStart = -1
  for (let i = 0; i < input.length; i++) {
    const folded = foldCodeUnit(input.charCodeAt(i))
    if (typeof folded === 'string') {
      if (!inWord) {
        if (text.length > 0) {
          text += ' '
          start.push(gapStart)
          end.push(i)
        }
        wordClauses.push(clause)
        inWord = true
      }
      for (let k = 0; k < folded.length; k++) {
        text += folded[k]
        start.push(i)
        end.push(i + 1)
      }
    } else if (folded === IGNORABLE) {
      // A mark after a letter belongs to it, so `e\u0301` maps back as one unit.
      if (inWord) end[end.length - 1] = i + 1
    } else {
      if (inWord) {
        gapStart = i
        inWord = false
      }
      if (folded === CLAUSE_BREAK) clause++
    }
  }
  return { text, start, end, wordClauses }
}
