import { foldCodeUnit, IGNORABLE } from './fold.js'

/**
 * The spelling fold: Spanish spells several sounds more than one way, and chat writers use them
 * interchangeably (`sertificado`, `kiero`, `ola`, `yamada`, `bolver`, `pagoo`). After accent and
 * case folding, both the rule terms and the text are read through these rules, within a word:
 *
 * - `h` is silent: dropped (`hola` = `ola`), except that `ch` keeps its `c` apart from `k` and `s`;
 * - `c` before `e`/`i` is `s`, `z` is `s` (`certificado` = `sertificado` = `zertificado`);
 * - `c` elsewhere, `qu` before `e`/`i`, `q` and `k` are `k` (`quiero` = `kiero`, `cuenta` = `kuenta`);
 * - `g` before `e`/`i` is `j`; the `u` of `gue`/`gui` is silent (`gestion` = `jestion`);
 * - `v` is `b`; `y` and `ll` are `i` (`llamada` = `yamada`, `muy` = `mui`);
 * - a letter repeated right after itself is read once (`pagoo` = `pago`, `carro` = `caro`).
 *
 * The fold keeps the text's length: a dropped letter becomes {@link DROPPED}, which continues (or
 * starts) a word without adding a letter, so offsets into the original text stay exact and an
 * explanation quotes what the customer wrote.
 */

/** Code written in place of a letter the spelling fold drops (a private-use code unit). */
export const DROPPED = 0xe000

const a = 97
const e = 101
const i_ = 105
const space = 32

/**
 * Folded ASCII letter or digit code of each BMP code unit, filled on first sight: the code of
 * `a`–`z`/`0`–`9`, or -1 when the unit is anything else (separator, mark, another script, a
 * letter folding to more than one character).
 */
const simple = new Int16Array(0x10000).fill(-2)

function simpleOf(code: number): number {
  let s = simple[code]!
  if (s === -2) {
    const folded = foldCodeUnit(code)
    s = -1
    if (typeof folded === 'string' && folded.length === 1) {
      const c = folded.charCodeAt(0)
      if ((c >= a && c <= 122) || (c >= 48 && c <= 57)) s = c
    }
    simple[code] = s
  }
  return s
}

const isFrontVowel = (c: number): boolean => c === e || c === i_

/**
 * Writes the spelling fold of `text` into `out[0 … text.length)`: for each code unit, the folded
 * letter it is read as (lower-case ASCII), {@link DROPPED}, or the unit itself when it is not an
 * ASCII-folding letter (separators, marks and other scripts keep their meaning for the scan).
 * `out` must hold at least `text.length` units.
 */
export function spellingFold(text: string, out: Uint16Array): void {
  const n = text.length
  // The last letter written in the current word, for the repeated-letter rule; -1 at a word start.
  let previous = -1
  let skip = false
  for (let k = 0; k < n; k++) {
    const code = text.charCodeAt(k)
    const c = simpleOf(code)
    if (c < 0) {
      // A real private-use DROPPED in the text is a separator, as it is without the fold.
      out[k] = code === DROPPED ? space : code
      // A mark (accent, zero-width) continues its word: anything else ends it.
      if (foldCodeUnit(code) !== IGNORABLE) {
        previous = -1
        skip = false
      }
      continue
    }
    if (skip) {
      skip = false
      out[k] = DROPPED
      continue
    }
    let read = c
    switch (c) {
      case 104: // h
        out[k] = DROPPED
        continue
      case 99: {
        // c
        const next = k + 1 < n ? simpleOf(text.charCodeAt(k + 1)) : -1
        read = isFrontVowel(next) ? 115 : next === 104 ? 99 : 107
        break
      }
      case 113: {
        // q
        read = 107
        if (k + 2 < n && simpleOf(text.charCodeAt(k + 1)) === 117)
          skip = isFrontVowel(simpleOf(text.charCodeAt(k + 2)))
        break
      }
      case 103: {
        // g
        const next = k + 1 < n ? simpleOf(text.charCodeAt(k + 1)) : -1
        if (next === 117 && k + 2 < n && isFrontVowel(simpleOf(text.charCodeAt(k + 2)))) skip = true
        else if (isFrontVowel(next)) read = 106
        break
      }
      case 108: // l
        if (k + 1 < n && simpleOf(text.charCodeAt(k + 1)) === 108) {
          read = i_
          skip = true
        }
        break
      case 122: // z
        read = 115
        break
      case 118: // v
        read = 98
        break
      case 121: // y
        read = i_
        break
    }
    if (read === previous) {
      out[k] = DROPPED
      continue
    }
    out[k] = read
    previous = read
  }
}

let buffer = new Uint16Array(64)

/** The spelling fold of one folded word (letters and digits only), dropped letters removed. */
export function spellWord(word: string): string {
  if (buffer.length < word.length) buffer = new Uint16Array(word.length * 2)
  spellingFold(word, buffer)
  let out = ''
  for (let k = 0; k < word.length; k++)
    if (buffer[k] !== DROPPED) out += String.fromCharCode(buffer[k]!)
  return out
}

/** What may follow a prefix: nothing, or any letter or digit. */
const contexts = ['', ...'abcdefghijklmnopqrstuvwxyz0123456789']

/** The spelling fold of `word + context`, split into the reading of `word` and of `context`. */
function spellIn(word: string, context: string): [string, string] {
  const whole = word + context
  if (buffer.length < whole.length) buffer = new Uint16Array(whole.length * 2)
  spellingFold(whole, buffer)
  let own = ''
  let after = ''
  for (let k = 0; k < whole.length; k++) {
    if (buffer[k] === DROPPED) continue
    if (k < word.length) own += String.fromCharCode(buffer[k]!)
    else after += String.fromCharCode(buffer[k]!)
  }
  return [own, after]
}

/**
 * The spelling folds of a prefix (`cancelac` of `cancelac*`), each to be matched as a prefix: how
 * the last letters of a prefix read depends on the letter after it, which the prefix leaves
 * open (`cancelaci…` reads `kanselas`, `cancelaca…` `kanselak`, `cancelach…` `kanselac`). When
 * one reading begins another (`certifiqu*`: `sertifik` before `e`/`i`, `sertifiku` elsewhere),
 * the shorter one carries the letters that lead to it (`sertifike`, `sertifiki`), so that no
 * reading matches a word that the prefix does not begin (`certificado`).
 */
export function spellPrefix(word: string): string[] {
  const groups = new Map<string, string[]>()
  for (const context of contexts) {
    const [own, after] = spellIn(word, context)
    const group = groups.get(own) ?? []
    groups.set(own, group)
    // A context read as nothing (a silent h, a repeated letter) decides nothing.
    if (context === '' || after !== '') group.push(after)
  }
  const readings = new Set<string>()
  for (const [own, afters] of groups) {
    if (own === '') continue
    const begins = [...groups.keys()].some((other) => other !== own && other.startsWith(own))
    if (!begins) readings.add(own)
    else for (const after of afters) if (after !== '') readings.add(own + after)
  }
  return [...readings]
}
