import { spellPrefix, spellWord } from './spelling.js'

/**
 * The forms under which a rule term is looked for, besides its spelling fold (spelling.ts):
 *
 * - **chat abbreviations** of its words (`que` → `q`, `k`; `porque` → `xq`, `pq`; `por favor` →
 *   `porfa`, `pls`; `informacion` → `info`; …), from the table below;
 * - **one slip of the fingers** in a word of {@link typoMinLength} letters or more: one letter
 *   missing or two neighbouring letters swapped, never the first letter (`certifcado`,
 *   `cancleacion`); a slip that spells another term of the rule set exactly is not used.
 *
 * Rules stay written in correct Spanish; every form of a term counts as that term, once.
 */

/**
 * Folded words and the abbreviations chat writers use for them. One that the spelling fold already
 * reads like the word or like another of its abbreviations is left out: `k` for `que` (read as
 * `q`), `xk` for `porque` (as `xq`), `whatsap` (as `whatsapp`).
 */
export const abbreviations: readonly (readonly [string, readonly string[]])[] = [
  ['que', ['q']],
  ['porque', ['xq', 'pq', 'porq']],
  ['por que', ['xq', 'pq', 'porq']],
  ['por', ['x']],
  ['por favor', ['porfa', 'porfis', 'pls', 'plis', 'xfa', 'xfavor', 'x fa']],
  ['tambien', ['tb', 'tmb']],
  ['mensaje', ['msj', 'mensj']],
  ['mensajes', ['msjs']],
  ['informacion', ['info']],
  ['celular', ['cel']],
  ['telefono', ['tel', 'tlf']],
  ['numero', ['num', 'nro']],
  ['cuenta', ['cta']],
  ['para', ['pa', 'pra']],
  ['usted', ['ud']],
  ['ustedes', ['uds']],
  ['whatsapp', ['wsp', 'wpp']],
  ['de', ['d']],
  ['donde', ['dnd']],
  ['mucho', ['mxo']],
]

/** Shortest folded word (without `*`) in which a slip of the fingers is tolerated. */
export const typoMinLength = 7

/** Forms of one term, as spelled words for the matcher (a prefix word keeps its `*`). */
export interface TermForms {
  /** The term's own words and abbreviations, spelled. */
  exact: string[][]
  /** One-slip forms, spelled; none equals an exact form. */
  typos: string[][]
}

/** At most this many forms per term and kind, so that a long phrase cannot explode the matcher. */
const maxForms = 48

const table = abbreviations.map(([full, short]) => ({
  from: full.split(' '),
  to: short.map((s) => s.split(' ')),
}))

/** The word lists a term is also written as with chat abbreviations, the term's own first. */
function abbreviated(words: readonly string[]): string[][] {
  const out = [words.slice()]
  const seen = new Set([words.join(' ')])
  for (let head = 0; head < out.length && out.length < maxForms; head++) {
    const current = out[head]!
    for (const { from, to } of table)
      for (let i = 0; i + from.length <= current.length; i++) {
        if (!from.every((word, k) => current[i + k] === word)) continue
        for (const replacement of to) {
          const next = [...current.slice(0, i), ...replacement, ...current.slice(i + from.length)]
          const key = next.join(' ')
          if (!seen.has(key) && out.length < maxForms) {
            seen.add(key)
            out.push(next)
          }
        }
      }
  }
  return out
}

/** The spelled readings of one folded word (`cancelac*` has several, see `spellPrefix`). */
function readings(word: string): string[] {
  if (!word.endsWith('*')) {
    const spelled = spellWord(word)
    return spelled === '' ? [] : [spelled]
  }
  return spellPrefix(word.slice(0, -1)).map((r) => `${r}*`)
}

/** Every combination of the words' readings. */
function spelledLists(words: readonly string[]): string[][] {
  let lists: string[][] = [[]]
  for (const word of words) {
    const options = readings(word)
    // A word that is only silent letters (`h`) is an empty word in the text: it never matches.
    if (options.length === 0) return []
    lists = lists.flatMap((list) => options.map((o) => [...list, o])).slice(0, maxForms)
  }
  return lists
}

/** One-slip forms of a folded word: a letter missing or two neighbours swapped, never the first. */
function slips(word: string): string[] {
  const prefix = word.endsWith('*')
  const stem = prefix ? word.slice(0, -1) : word
  if (stem.length < typoMinLength) return []
  const out = new Set<string>()
  // A prefix keeps its last letter, so a slip cannot widen it; a whole word keeps it too (`pagos`
  // without its `s` is another word).
  for (let k = 1; k < stem.length - 1; k++) out.add(stem.slice(0, k) + stem.slice(k + 1))
  for (let k = 1; k + 1 < stem.length - (prefix ? 1 : 0); k++)
    if (stem[k] !== stem[k + 1])
      out.add(stem.slice(0, k) + stem[k + 1]! + stem[k]! + stem.slice(k + 2))
  out.delete(stem)
  return [...out].map((s) => (prefix ? `${s}*` : s))
}

const keyOf = (words: readonly string[]): string => words.join(' ')

/**
 * Whether some text matches both forms: the same words but the last, and last words equal or,
 * where one is a prefix (`desafi*`, a slip of `desafili*` once `ii` reads `i`), one beginning
 * the other.
 */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const last = a.length - 1
  for (let k = 0; k < last; k++) if (a[k] !== b[k]) return false
  const x = a[last]!
  const y = b[last]!
  const xPrefix = x.endsWith('*')
  const yPrefix = y.endsWith('*')
  const xStem = xPrefix ? x.slice(0, -1) : x
  const yStem = yPrefix ? y.slice(0, -1) : y
  if (xPrefix && yStem.startsWith(xStem)) return true
  if (yPrefix && xStem.startsWith(yStem)) return true
  return xStem === yStem
}

/**
 * The forms of a term given as folded words (`parseTerm`). `exactKeys`, when given, holds the
 * exact forms of every term of the rule set: a slip equal to one of them is dropped.
 */
export function termForms(words: readonly string[], exactKeys?: ReadonlySet<string>): TermForms {
  const exact: string[][] = []
  const seen = new Set<string>()
  for (const list of abbreviated(words))
    for (const spelled of spelledLists(list)) {
      const key = keyOf(spelled)
      if (!seen.has(key) && exact.length < maxForms) {
        seen.add(key)
        exact.push(spelled)
      }
    }
  const typos: string[][] = []
  words.forEach((word, w) => {
    for (const slip of slips(word))
      for (const spelled of spelledLists([...words.slice(0, w), slip, ...words.slice(w + 1)])) {
        const key = keyOf(spelled)
        if (seen.has(key) || exactKeys?.has(key) === true || typos.length >= maxForms) continue
        // A slip that some text would match together with the term itself would count it twice.
        if (exact.some((form) => overlaps(form, spelled))) continue
        seen.add(key)
        typos.push(spelled)
      }
  })
  return { exact, typos }
}

/** The key under which the matcher knows a form: its words joined by spaces. */
export const formKey = keyOf
