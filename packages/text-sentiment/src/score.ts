/*
 * The scorer: one pass over the text turns it into tokens (folded words, emoji, clause breaks)
 * in reusable buffers, then one pass over the tokens looks each word up in the compiled lexicon
 * (phrases first, then the word, then its prefixes) and applies the rules of the README in
 * order: negation to the end of the clause, intensifiers, emphasis, `pero`, questions.
 */
import {
  compileLexicon,
  lookupPrefix,
  type CompiledLexicon,
  type Entry,
  type Phrase,
} from './compile.js'
import * as fold from './fold.js'

/** The five sentiment values, most negative first. */
export const sentiments = [
  'very_negative',
  'negative',
  'neutral',
  'positive',
  'very_positive',
] as const

/** One of {@link sentiments}. */
export type Sentiment = (typeof sentiments)[number]

/** One contribution to a score. */
export interface SentimentMatch {
  /** The lexicon term (`pésim*`, `paz y salvo`, `😡`, `:)`) that matched. */
  term: string
  /** UTF-16 offsets in the original text: `text.slice(start, end)` is what matched. */
  start: number
  end: number
  /** The contribution to the sum, after every rule (0 for a neutral exception). */
  weight: number
  /** The lexicon weight before the rules. */
  base: number
  /** The rules applied, in order (`negated by "no"`, `×1.5 "muy"`, `caps`, …). */
  modifiers: string[]
}

/** The result of {@link scoreText}. */
export interface SentimentScore {
  sentiment: Sentiment
  /** In [−1, 1]: the sum of the weights squashed by `sum / √(sum² + 8)`. */
  score: number
  matches: SentimentMatch[]
}

/** The constants of the rules, documented in the README. */
export const scoring = Object.freeze({
  /** `score = sum / √(sum² + alpha)`: one `gracias` (1) gives 0.333, `excelente` (3) 0.728. */
  alpha: 8,
  /** |score| below this is neutral. */
  neutralBelow: 0.2,
  /** |score| at or above this is very_positive or very_negative. */
  veryFrom: 0.72,
  /** A negated positive weight is multiplied by this. */
  negatedPositive: -0.8,
  /** A negated negative weight is multiplied by this (`no es malo` is only mildly good). */
  negatedNegative: -0.5,
  /** An ALL CAPS word (3+ letters). */
  caps: 1.3,
  /** A letter repeated 3+ times (`pesimooo`). */
  elongated: 1.3,
  /** A clause ending in `!!` or more. */
  exclamations: 1.3,
  /** Positive weights in a clause ending in `?`. */
  questionPositive: 0.25,
  /** Weights before `pero` … */
  beforeBut: 0.5,
  /** … and after it. */
  afterBut: 1.5,
  /** An intensifier reaches the next sentiment term within this many words. */
  intensifierReach: 3,
})

/** The sentiment of a score, by the fixed thresholds of {@link scoring}. */
export function sentimentOf(score: number): Sentiment {
  if (score >= scoring.veryFrom) return 'very_positive'
  if (score >= scoring.neutralBelow) return 'positive'
  if (score <= -scoring.veryFrom) return 'very_negative'
  if (score <= -scoring.neutralBelow) return 'negative'
  return 'neutral'
}

const lexicon: CompiledLexicon = compileLexicon()

// Read once: a loader may turn imported bindings into getter calls, which the hot loops below
// would pay for on every code unit.
const { classes, folded } = fold.foldTables()
const classify = fold.unitClass
const LOWER = fold.LOWER
const UPPER = fold.UPPER
const BREAK = fold.BREAK
const BANG = fold.BANG
const QUESTION = fold.QUESTION
const IGNORABLE = fold.IGNORABLE
const SYMBOL = fold.SYMBOL
const SURROGATE = fold.SURROGATE
const words = lexicon.words
const prefixes = lexicon.prefixes
const index = lexicon.index
const prefixPhrases = lexicon.prefixPhrases
/** First code units of the phrases that start with a prefix: a cheap test before trying them. */
const prefixPhraseFirsts = new Set(prefixPhrases.map(([prefix]) => prefix.charCodeAt(0)))
const emojiWeight = lexicon.emoji
const prefixLookup = lookupPrefix

/** The class of code unit `code`, from the table when it is known. */
const classOf = (code: number): number => {
  const c = classes[code]!
  return c === 0 ? classify(code) : c
}

// Token buffers, reused by every call (the scorer is synchronous, so calls never interleave).
const WORD = 1
const EMOJI = 2
const CLAUSE_END = 3
const F_CAPS = 1
const F_ELONGATED = 2
const F_TRAILING_DOUBLE = 4
const F_BANGS = 8
const F_QUESTION = 16

let capacity = 64
let kinds = new Uint8Array(capacity)
let flags = new Uint8Array(capacity)
let starts = new Int32Array(capacity)
let ends = new Int32Array(capacity)
let weights = new Float64Array(capacity)
const texts: string[] = new Array<string>(capacity)

function grow(): void {
  capacity *= 2
  const k = new Uint8Array(capacity)
  k.set(kinds)
  kinds = k
  const f = new Uint8Array(capacity)
  f.set(flags)
  flags = f
  const s = new Int32Array(capacity)
  s.set(starts)
  starts = s
  const e = new Int32Array(capacity)
  e.set(ends)
  ends = e
  const w = new Float64Array(capacity)
  w.set(weights)
  weights = w
  texts.length = capacity
}

const isWordClass = (c: number): boolean => c === LOWER || c === UPPER

/** Length of the emoticon at `i`, storing its index in `emoticonHit`; 0 when none. */
let emoticonHit = -1
function emoticonAt(text: string, i: number): number {
  const emoticons = lexicon.emoticons
  for (let k = 0; k < emoticons.length; k++) {
    const face = emoticons[k]![0]
    if (!text.startsWith(face, i)) continue
    const after = i + face.length
    if (after < text.length) {
      const next = text.charCodeAt(after)
      if (isWordClass(classOf(next))) continue
      // `://` is a URL, not a face.
      if (face.endsWith('/') && next === 0x2f) continue
    }
    // `10:30` is a time, not `:3`.
    if (i > 0 && face.charCodeAt(0) === 0x3a) {
      const prev = text.charCodeAt(i - 1)
      if (prev >= 0x30 && prev <= 0x39) continue
      if (face.endsWith('/') && isWordClass(classOf(prev))) continue
    }
    emoticonHit = k
    return face.length
  }
  return 0
}

/** Splits `text` into the token buffers; returns the number of tokens. */
function tokenize(text: string): number {
  const n = text.length
  let count = 0
  let i = 0
  while (i < n) {
    if (count + 1 >= capacity) grow()
    const code = text.charCodeAt(i)
    const c = classOf(code)
    if (c === LOWER || c === UPPER) {
      const start = i
      let plain = true
      let upper = 0
      let lower = 0
      let prev = -1
      let run = 0
      let tokenFlags = 0
      for (; i < n; i++) {
        const u = text.charCodeAt(i)
        const uc = classOf(u)
        if (uc === IGNORABLE) {
          plain = false
          continue
        }
        if (uc !== LOWER && uc !== UPPER) break
        const f = folded[u]!
        if (f !== u) plain = false
        if (uc === UPPER) upper++
        else if (f > 0x39 || f < 0x30) lower++
        if (f === prev) {
          if (++run === 3) tokenFlags |= F_ELONGATED
        } else run = 1
        prev = f
      }
      let word: string
      if (plain) word = text.slice(start, i)
      else {
        word = ''
        for (let j = start; j < i; j++) {
          const u = text.charCodeAt(j)
          const uc = classOf(u)
          if (uc === LOWER || uc === UPPER) word += String.fromCharCode(folded[u]!)
        }
      }
      if (run === 2 && word.length >= 3) tokenFlags |= F_TRAILING_DOUBLE
      if (upper >= 3 && lower === 0) tokenFlags |= F_CAPS
      kinds[count] = WORD
      flags[count] = tokenFlags
      starts[count] = start
      ends[count] = i
      texts[count] = word
      count++
      continue
    }
    // Faces start with `:`, `;`, `=` or `<`.
    if (code === 0x3a || code === 0x3b || code === 0x3d || code === 0x3c) {
      const length = emoticonAt(text, i)
      if (length > 0) {
        const [face, weight] = lexicon.emoticons[emoticonHit]!
        kinds[count] = EMOJI
        starts[count] = i
        ends[count] = i + length
        texts[count] = face
        weights[count] = weight
        count++
        i += length
        // `:)))` is one face.
        const last = face.charCodeAt(face.length - 1)
        while (i < n && text.charCodeAt(i) === last) i++
        continue
      }
    }
    if (c === BREAK || c === BANG || c === QUESTION) {
      const start = i
      let bangs = 0
      let question = false
      for (; i < n; i++) {
        const uc = classOf(text.charCodeAt(i))
        if (uc === BANG) bangs++
        else if (uc === QUESTION) question = true
        else if (uc !== BREAK) break
      }
      kinds[count] = CLAUSE_END
      flags[count] = (bangs >= 2 ? F_BANGS : 0) | (question ? F_QUESTION : 0)
      starts[count] = start
      ends[count] = i
      count++
      continue
    }
    if (c === SURROGATE || c === SYMBOL) {
      const point = text.codePointAt(i)!
      const width = point > 0xffff ? 2 : 1
      const weight = emojiWeight.get(point)
      if (weight !== undefined) {
        kinds[count] = EMOJI
        starts[count] = i
        ends[count] = i + width
        texts[count] = String.fromCodePoint(point)
        weights[count] = weight
        count++
      }
      i += width
      continue
    }
    i++
  }
  return count
}

/** Word `word` without letters repeated 3+ times in a row, nor a doubled last letter. */
function collapse(word: string): string {
  let out = ''
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!
    let j = i
    while (j + 1 < word.length && word[j + 1] === ch) j++
    const length = j - i + 1
    out += length >= 3 || (length === 2 && j === word.length - 1) ? ch : word.slice(i, j + 1)
    i = j
  }
  return out
}

/** The entry of a word that is not in the index as it is: its prefixes, then without elongation. */
function lookupWord(word: string, tokenFlags: number): Entry | undefined {
  const prefixed = prefixLookup(prefixes, word)
  if (prefixed !== undefined) return prefixed
  if ((tokenFlags & (F_ELONGATED | F_TRAILING_DOUBLE)) === 0) return undefined
  const short = collapse(word)
  return words.get(short) ?? prefixLookup(prefixes, short)
}

function phraseMatches(
  words: readonly string[],
  prefix: readonly boolean[],
  at: number,
  count: number,
): boolean {
  if (at + words.length > count) return false
  for (let k = 1; k < words.length; k++) {
    const t = at + k
    if (kinds[t] !== WORD) return false
    const w = texts[t]!
    if (prefix[k] ? !w.startsWith(words[k]!) : w !== words[k]) return false
  }
  return true
}

/** Number of words of the longest phrase of `list` at token `at`, its entry in `phraseHit`. */
let phraseHit: Entry | undefined
function phraseAt(list: readonly Phrase[], at: number, count: number): number {
  for (let p = 0; p < list.length; p++) {
    const phrase = list[p]!
    if (phraseMatches(phrase.words, phrase.prefix, at, count)) {
      phraseHit = phrase.entry
      return phrase.words.length
    }
  }
  return 0
}

/** The same for the phrases whose first word is a prefix (`cancel* la factura`). */
function prefixPhraseAt(at: number, count: number): number {
  const first = texts[at]!
  for (let k = 0; k < prefixPhrases.length; k++) {
    const [prefix, list] = prefixPhrases[k]!
    if (first.startsWith(prefix)) {
      const length = phraseAt(list, at, count)
      if (length > 0) return length
    }
  }
  return 0
}

const factorLabels = new Map<number, string>()
/** `×1.5`: cached, as a scan meets the same few factors again and again. */
function times(factor: number): string {
  let label = factorLabels.get(factor)
  if (label === undefined) {
    label = `×${Math.round(factor * 100) / 100}`
    factorLabels.set(factor, label)
  }
  return label
}
const capsLabel = `${times(scoring.caps)} caps`
const elongatedLabel = `${times(scoring.elongated)} repeated letters`
const bangsLabel = `${times(scoring.exclamations)} "!!"`
const questionLabel = `${times(scoring.questionPositive)} question`
const beforeButLabel = `${times(scoring.beforeBut)} before "pero"`
const afterButLabel = `${times(scoring.afterBut)} after "pero"`

function scale(match: SentimentMatch, factor: number, why: string): void {
  if (match.weight === 0) return
  match.weight *= factor
  match.modifiers.push(why)
}

// State of the scan in progress (module-level, like the token buffers: no closure per call).
let matches: SentimentMatch[] = []
let clauseFirst = 0 // index in `matches` of the current clause's first match
let clauseWords = 0 // words seen in the current clause
let negator: string | undefined // the negator in force in the current clause
let pending: Entry | undefined // an intensifier waiting for its sentiment term
let pendingStart = 0
let pendingEnd = 0
let pendingAge = 0
let pendingFactor = 1
// `pero`: matches from `butFrom` on come before the next `pero`; `afterBut` once one was seen.
let butFrom = 0
let afterBut = false

const intensified = (match: SentimentMatch): boolean => {
  for (const m of match.modifiers) if (m.charCodeAt(0) === 0xd7) return true // '×'
  return false
}

function endClause(tokenFlags: number): void {
  if (pending !== undefined) {
    const last = matches.length > clauseFirst ? matches[matches.length - 1]! : undefined
    if (last !== undefined && last.weight !== 0 && negator === undefined && !intensified(last))
      // A trailing intensifier modifies what came before it: `me gusta mucho`.
      scale(last, pendingFactor, `${times(pendingFactor)} "${pending.term}"`)
    else if (pending.weight !== 0)
      matches.push({
        term: pending.term,
        start: pendingStart,
        end: pendingEnd,
        weight: pending.weight * (afterBut ? scoring.afterBut : 1),
        base: pending.weight,
        modifiers: afterBut ? [afterButLabel] : [],
      })
    pending = undefined
  }
  if ((tokenFlags & F_BANGS) !== 0)
    for (let k = clauseFirst; k < matches.length; k++)
      scale(matches[k]!, scoring.exclamations, bangsLabel)
  if ((tokenFlags & F_QUESTION) !== 0)
    for (let k = clauseFirst; k < matches.length; k++)
      if (matches[k]!.weight > 0) scale(matches[k]!, scoring.questionPositive, questionLabel)
  clauseFirst = matches.length
  clauseWords = 0
  negator = undefined
}

/** UTF-16 units of a text that {@link scoreText} reads; the rest is ignored. */
export const maxTextLength = 2_000

/**
 * Scores one chat line: the sum of the weights of the lexicon terms, emoji and emoticons found,
 * after negation, intensifiers and the other rules of the README, squashed into [−1, 1], and the
 * sentiment that the score falls in. Every contribution is in `matches`, with offsets into `text`.
 * Never throws; an empty text is neutral with score 0. Only the first {@link maxTextLength} units
 * are read.
 */
export function scoreText(text: string): SentimentScore {
  // A chat line is short; a longer "text" is an inlined image or a pasted document, whose
  // sentiment is not in its later kilobytes: only its start is read, so one message cannot stall
  // a consumer (a 1 MB base64 image took about 290 ms whole).
  const count = tokenize(text.length > maxTextLength ? text.slice(0, maxTextLength) : text)
  const found: SentimentMatch[] = []
  matches = found
  clauseFirst = 0
  clauseWords = 0
  negator = undefined
  pending = undefined
  butFrom = 0
  afterBut = false

  for (let t = 0; t < count; t++) {
    const kind = kinds[t]
    if (kind === CLAUSE_END) {
      endClause(flags[t]!)
      continue
    }
    if (kind === EMOJI) {
      // Emoji say how the writer feels: no negation, no intensifier.
      const weight = weights[t]!
      found.push({
        term: texts[t]!,
        start: starts[t]!,
        end: ends[t]!,
        weight,
        base: weight,
        modifiers: [],
      })
      continue
    }

    const info = index.get(texts[t]!)
    let length = info?.phrases === undefined ? 0 : phraseAt(info.phrases, t, count)
    if (length === 0 && prefixPhraseFirsts.has(texts[t]!.charCodeAt(0)))
      length = prefixPhraseAt(t, count)
    let entry: Entry | undefined
    let tokenFlags = flags[t]!
    if (length > 0) {
      entry = phraseHit
      for (let k = 1; k < length; k++) tokenFlags |= flags[t + k]!
    } else {
      entry = info?.entry ?? lookupWord(texts[t]!, tokenFlags)
      length = 1
    }
    const first = t
    const last = t + length - 1
    clauseWords++
    if (entry === undefined) {
      if (pending !== undefined && ++pendingAge > scoring.intensifierReach) pending = undefined
      continue
    }
    t = last

    switch (entry.kind) {
      case 'negator':
        negator = entry.term
        continue
      case 'intensifier':
        if (pending !== undefined && pendingAge === 0) {
          // `muy muy`: the factors multiply.
          pendingFactor *= entry.factor
          pendingEnd = ends[last]!
        } else {
          pending = entry
          pendingFactor = entry.factor
          pendingStart = starts[first]!
          pendingEnd = ends[last]!
        }
        pendingAge = 0
        continue
      case 'clause':
        endClause(0)
        if (entry.but) {
          for (let k = butFrom; k < found.length; k++)
            scale(found[k]!, scoring.beforeBut, beforeButLabel)
          butFrom = found.length
          afterBut = true
        }
        continue
      case 'neutral':
        found.push({
          term: entry.term,
          start: starts[first]!,
          end: ends[last]!,
          weight: 0,
          base: 0,
          modifiers: ['neutral in a contact center'],
        })
        pending = undefined
        continue
      case 'sentiment':
        break
    }

    // A word that only matters under negation (`contestan`) is nothing without one.
    if (entry.weight === 0 && negator === undefined) continue
    const match: SentimentMatch = {
      term: entry.term,
      start: starts[first]!,
      end: ends[last]!,
      weight: entry.weight,
      base: entry.weight,
      modifiers: [],
    }
    found.push(match)
    const alone =
      entry.discourse &&
      clauseWords === 1 &&
      (last + 1 >= count || kinds[last + 1] === CLAUSE_END) &&
      negator === undefined
    if (alone) {
      match.weight = 0
      match.modifiers.push('discourse marker, alone in its clause')
      pending = undefined
      continue
    }
    if (negator !== undefined) {
      match.weight =
        entry.negated ??
        entry.weight * (entry.weight > 0 ? scoring.negatedPositive : scoring.negatedNegative)
      match.modifiers.push(`negated by "${negator}"`)
      // Under negation an intensifier says little (`no es muy bueno` is mild): dropped.
      pending = undefined
    }
    if (match.weight === 0) continue
    if (pending !== undefined) {
      scale(match, pendingFactor, `${times(pendingFactor)} "${pending.term}"`)
      pending = undefined
    }
    if ((tokenFlags & F_CAPS) !== 0) scale(match, scoring.caps, capsLabel)
    if ((tokenFlags & F_ELONGATED) !== 0) scale(match, scoring.elongated, elongatedLabel)
    if (afterBut) scale(match, scoring.afterBut, afterButLabel)
  }
  endClause(0)
  matches = []

  let sum = 0
  for (const m of found) {
    // Three decimals: the products of factors print as 2.1, not 2.0999999999999996.
    m.weight = Math.round(m.weight * 1000) / 1000 || 0
    sum += m.weight
  }
  const score = sum === 0 ? 0 : sum / Math.sqrt(sum * sum + scoring.alpha)
  return { sentiment: sentimentOf(score), score, matches: found }
}

/** Number of entries of the compiled lexicon (words, prefixes, phrases, emoji, emoticons). */
export const lexiconSize: number = lexicon.size
