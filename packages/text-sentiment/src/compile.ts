import { foldText } from './fold.js'
import {
  clauseTerms,
  discourseTerms,
  emojiWeights,
  emoticonWeights,
  intensifierTerms,
  mildTerms,
  negationSensitiveTerms,
  negatorTerms,
  neutralTerms,
  sentimentTerms,
} from './lexicon.js'

/** What a lexicon entry does to the score. */
export type EntryKind = 'sentiment' | 'neutral' | 'negator' | 'intensifier' | 'clause'

/** One compiled lexicon entry (a word, a prefix or a phrase). */
export interface Entry {
  /** The term as written in the lexicon (`pésim*`, `paz y salvo`): the `term` of a match. */
  readonly term: string
  readonly kind: EntryKind
  /** Sentiment: the base weight. Intensifier: the weight when it modifies nothing (`¡súper!`). */
  readonly weight: number
  /** Sentiment: the weight under negation when a flip would be wrong; else undefined. */
  readonly negated: number | undefined
  /** Intensifier: the factor applied to the next sentiment term (diminishers below 1). */
  readonly factor: number
  /** Clause: shifts the weight to what follows (`pero`). */
  readonly but: boolean
  /** Sentiment: weight 0 when it is alone in its clause (`Bueno, …`). */
  readonly discourse: boolean
}

/** A phrase: folded words, each possibly a prefix (`cancel*`). */
export interface Phrase {
  readonly words: readonly string[]
  readonly prefix: readonly boolean[]
  readonly entry: Entry
}

interface TrieNode {
  next: Map<number, TrieNode>
  entry: Entry | undefined
}

/** What a folded word starts: its own entry, and the phrases whose first word it is. */
export interface WordInfo {
  readonly entry: Entry | undefined
  readonly phrases: readonly Phrase[] | undefined
}

/** The lexicon compiled for one pass over a text. Immutable once built. */
export interface CompiledLexicon {
  /** `words` and `phrases` in one map, so that a word costs one lookup. */
  readonly index: ReadonlyMap<string, WordInfo>
  /** Exact folded words. */
  readonly words: ReadonlyMap<string, Entry>
  /** Prefix entries, by folded code unit; the longest prefix of a word wins. */
  readonly prefixes: TrieNode
  /** Phrases by their first folded word, longest first. */
  readonly phrases: ReadonlyMap<string, readonly Phrase[]>
  /** Phrases whose first word is a prefix: [prefix, phrases longest first]. */
  readonly prefixPhrases: readonly (readonly [string, readonly Phrase[]])[]
  /** Emoji weight by code point. */
  readonly emoji: ReadonlyMap<number, number>
  /** Emoticons, longest first. */
  readonly emoticons: readonly (readonly [string, number])[]
  /** Number of entries (words, prefixes and phrases). */
  readonly size: number
}

const split = (terms: string): string[] =>
  terms
    .split('|')
    .map((t) => t.trim())
    .filter((t) => t !== '')

/**
 * Compiles the lexicon of `lexicon.ts`.
 *
 * @throws Error when a term is empty once folded or is defined twice (a lexicon bug, caught by
 *   the package's tests).
 */
export function compileLexicon(): CompiledLexicon {
  const words = new Map<string, Entry>()
  const prefixes: TrieNode = { next: new Map(), entry: undefined }
  const phrases = new Map<string, Phrase[]>()
  const prefixPhrases = new Map<string, Phrase[]>()
  const seen = new Map<string, string>()
  let size = 0

  const add = (term: string, entry: Omit<Entry, 'term'>): void => {
    const parts = term.split(/\s+/).map((w) => ({ word: foldText(w), prefix: w.endsWith('*') }))
    if (parts.some((p) => p.word === '' || p.word.includes(' ')))
      throw new Error(`Lexicon term "${term}" has an empty or non-word part once folded`)
    const key = parts.map((p) => p.word + (p.prefix ? '*' : '')).join(' ')
    const previous = seen.get(key)
    if (previous !== undefined)
      throw new Error(`Lexicon term "${term}" is defined twice (also as "${previous}")`)
    seen.set(key, term)
    size++
    const full: Entry = { term, ...entry }
    const first = parts[0]!
    if (parts.length === 1) {
      if (!first.prefix) words.set(first.word, full)
      else {
        let node = prefixes
        for (let i = 0; i < first.word.length; i++) {
          const code = first.word.charCodeAt(i)
          let next = node.next.get(code)
          if (next === undefined) {
            next = { next: new Map(), entry: undefined }
            node.next.set(code, next)
          }
          node = next
        }
        node.entry = full
      }
      return
    }
    const phrase: Phrase = {
      words: parts.map((p) => p.word),
      prefix: parts.map((p) => p.prefix),
      entry: full,
    }
    const table = first.prefix ? prefixPhrases : phrases
    const list = table.get(first.word) ?? []
    list.push(phrase)
    table.set(first.word, list)
  }

  const base = { negated: undefined, factor: 1, but: false, discourse: false }
  const discourse = new Set(split(discourseTerms).map(foldText))
  for (const [weight, terms] of sentimentTerms)
    for (const term of split(terms))
      add(term, {
        ...base,
        kind: 'sentiment',
        weight,
        discourse: discourse.has(foldText(term)),
      })
  for (const [term, weight, negated] of negationSensitiveTerms)
    add(term, { ...base, kind: 'sentiment', weight, negated })
  for (const [term, weight] of mildTerms) add(term, { ...base, kind: 'sentiment', weight })
  for (const term of split(neutralTerms)) add(term, { ...base, kind: 'neutral', weight: 0 })
  for (const term of split(negatorTerms)) add(term, { ...base, kind: 'negator', weight: 0 })
  for (const [term, factor, weight] of intensifierTerms)
    add(term, { ...base, kind: 'intensifier', weight, factor })
  for (const [term, kind] of clauseTerms)
    add(term, { ...base, kind: 'clause', weight: 0, but: kind === 'but' })

  const longestFirst = (list: Phrase[]): Phrase[] =>
    list.sort((a, b) => b.words.length - a.words.length)
  for (const list of phrases.values()) longestFirst(list)
  for (const list of prefixPhrases.values()) longestFirst(list)

  const emoji = new Map<number, number>()
  for (const [char, weight] of emojiWeights) {
    const code = char.codePointAt(0)!
    if (emoji.has(code)) throw new Error(`Emoji ${char} is defined twice`)
    emoji.set(code, weight)
    size++
  }
  const emoticons = [...emoticonWeights].sort((a, b) => b[0].length - a[0].length)
  size += emoticons.length

  const index = new Map<string, WordInfo>()
  for (const key of new Set([...words.keys(), ...phrases.keys()]))
    index.set(key, { entry: words.get(key), phrases: phrases.get(key) })
  return {
    index,
    words,
    prefixes,
    phrases,
    prefixPhrases: [...prefixPhrases.entries()],
    emoji,
    emoticons,
    size,
  }
}

/** The entry of the longest prefix term that `word` starts with, or undefined. */
export function lookupPrefix(root: TrieNode, word: string): Entry | undefined {
  let node = root
  let found: Entry | undefined
  for (let i = 0; i < word.length; i++) {
    const next = node.next.get(word.charCodeAt(i))
    if (next === undefined) break
    node = next
    if (node.entry !== undefined) found = node.entry
  }
  return found
}
