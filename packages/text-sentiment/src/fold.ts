/**
 * Accent and case folding of one UTF-16 code unit, and the class of every code unit the
 * tokenizer needs: `Á` → `a`, `ñ` → `n`, `Ü` → `u`, `A`–`Z` → `a`–`z`. The lexicon is folded by
 * the same function as the text, so a term and the text it should match can never disagree.
 */

/** A lower-case (or caseless) letter or a digit: part of a word. */
export const LOWER = 1
/** An upper-case letter: part of a word, and counts towards an ALL CAPS word. */
export const UPPER = 2
/** Separates words without ending the clause (space, quotes, brackets, most symbols). */
export const SPACE = 3
/** Ends the clause: `. , ; : ¡ …` and line breaks. */
export const BREAK = 4
/** `!`: ends the clause; a run of two or more emphasises it. */
export const BANG = 5
/** `?`: ends the clause, which is a question. */
export const QUESTION = 6
/** Dropped without ending the word: combining marks, soft hyphen, zero-width and variation selectors. */
export const IGNORABLE = 7
/** Not a letter, digit or known punctuation: maybe an emoji (looked up by code point). */
export const SYMBOL = 8
/** A UTF-16 surrogate half: the character is outside the BMP (emoji live there). */
export const SURROGATE = 9

/** One of the classes above. */
export type UnitClass = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9

const breakChars = '.,;:¡¿…\n\r\u2028\u2029'
const markOrFormat = /^[\p{M}\p{Cf}]$/u
const combiningMarks = /\p{M}/gu
const letterOrDigit = /^[\p{L}\p{N}]$/u
const whiteOrPunctuation = /^[\p{Z}\p{P}\s]$/u

const classes = new Uint8Array(0x10000)
/** Folded code unit of each LOWER or UPPER unit; 0 until computed. */
const folded = new Uint16Array(0x10000)

function compute(code: number): void {
  if (code >= 0xd800 && code <= 0xdfff) {
    classes[code] = SURROGATE
    return
  }
  const char = String.fromCharCode(code)
  if (char === '!') classes[code] = BANG
  else if (char === '?') classes[code] = QUESTION
  else if (breakChars.includes(char)) classes[code] = BREAK
  else if (code === 0xfe0f || code === 0xfe0e || markOrFormat.test(char)) classes[code] = IGNORABLE
  else if (letterOrDigit.test(char)) {
    // Lower-case between two decompositions: `İ` lower-cases to `i` plus a combining dot.
    const base = char.normalize('NFD').toLowerCase().normalize('NFD').replace(combiningMarks, '')
    // A letter whose folding is not one BMP unit (ligatures, a few compatibility characters)
    // stays itself, lower-cased when that is one unit: such letters do not occur in the lexicon.
    const lower = char.toLowerCase()
    const unit = base.length === 1 ? base : lower.length === 1 ? lower : char
    folded[code] = unit.charCodeAt(0)
    classes[code] = lower !== char ? UPPER : LOWER
  } else if (whiteOrPunctuation.test(char) || code < 0x80) classes[code] = SPACE
  else classes[code] = SYMBOL
}

// ASCII and Latin-1 up front (every Spanish letter); the rest of the BMP on first sight.
for (let code = 0; code < 0x250; code++) compute(code)

/**
 * The tables behind {@link unitClass} and {@link foldedUnit}, for a hot loop to index directly:
 * `classes[code]` is 0 until {@link unitClass} has seen the unit, which also fills `folded[code]`.
 */
export function foldTables(): { classes: Uint8Array; folded: Uint16Array } {
  return { classes, folded }
}

/** The class of a UTF-16 code unit (computed once per unit, then read from a table). */
export function unitClass(code: number): UnitClass {
  let c = classes[code]!
  if (c === 0) {
    compute(code)
    c = classes[code]!
  }
  return c as UnitClass
}

/** The folded code unit of a letter or digit (call only when {@link unitClass} is LOWER or UPPER). */
export function foldedUnit(code: number): number {
  return folded[code]!
}

/**
 * Folds a whole string as the scorer folds the text: letters and digits folded, every other
 * character dropped except single spaces between words. Used for lexicon terms.
 */
export function foldText(text: string): string {
  let out = ''
  let pendingSpace = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const c = unitClass(code)
    if (c === LOWER || c === UPPER) {
      if (pendingSpace && out.length > 0) out += ' '
      pendingSpace = false
      out += String.fromCharCode(folded[code]!)
    } else if (c !== IGNORABLE) pendingSpace = true
  }
  return out
}
