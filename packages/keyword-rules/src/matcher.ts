import { AppError } from '@wolkvox-chat-stream/errors'
import { CLAUSE_BREAK, foldCodeUnit, SEPARATOR } from './fold.js'
import { DROPPED, spellingFold } from './spelling.js'

/**
 * One multi-pattern matcher for a whole rule set: an Aho-Corasick automaton, compiled to a full
 * transition table, over the folded character stream in which every run of separators is one
 * word-boundary symbol. A pattern is a boundary, its words joined by boundaries, and a closing
 * boundary unless its last word is a prefix; so word boundaries hold at both ends, and the text
 * is read once whatever the number of terms.
 */

/** A pattern for the matcher: folded words, the last one possibly a prefix (`certificad*`). */
export interface MatcherPattern {
  words: readonly string[]
  prefix: boolean
}

/** Hits of the last {@link scan}; the arrays are reused and valid until the next scan. */
export interface ScanResult {
  hitCount: number
  /** Pattern index of each hit. */
  hitPattern: Int32Array
  /** First and last word index of each hit. */
  hitFirst: Int32Array
  hitLast: Int32Array
  wordCount: number
  /** UTF-16 offsets of each word in the scanned text (end exclusive, trailing marks included). */
  wordStart: Int32Array
  wordEnd: Int32Array
  /** Clause number of each word. */
  wordClause: Int32Array
}

/** A compiled matcher. Not safe to use from two scans at once (it reuses its buffers). */
export interface Matcher {
  readonly patternCount: number
  /** Number of states of the automaton. */
  readonly stateCount: number
  /** Symbols per state: the boundary, "another letter", and each character the patterns use. */
  readonly width: number
  /** @internal */ readonly impl: MatcherImpl
}

const boundarySymbol = 0
const otherLetterSymbol = 1
// Read once: a bundler or loader may turn imported bindings into getter calls in the hot loop.
const separator = SEPARATOR
const clauseBreak = CLAUSE_BREAK
// Negative table entries, beside fold.ts's SEPARATOR, CLAUSE_BREAK and IGNORABLE.
const unknown = -4
const multiple = -5
/** A letter the spelling fold drops: it continues or starts a word, adding no symbol. */
const dropped = -6

/** How a matcher reads text. */
export interface MatcherOptions {
  /**
   * Read the text through the spelling fold (spelling.ts); the patterns must then be given
   * already spelled (`spellWord`, `spellPrefix`). Off by default.
   */
  spelling?: boolean
}

interface MatcherImpl {
  patternWords: Int32Array
  alphabet: Map<string, number>
  /** Transition table: entry `row + symbol` is the next state's row (state index × width). */
  delta: Int32Array
  startRow: number
  /** States are numbered so that every state with outputs has a row at or above this. */
  firstOutputRow: number
  width: number
  outputStart: Int32Array
  outputs: Int32Array
  ascii: Int16Array
  /** Symbol per BMP code unit, filled on first sight. */
  unicode: Int16Array
  multi: Map<number, Int16Array>
  /** The spelling-folded text of the current scan, when the matcher reads through the fold. */
  spelled: Uint16Array | undefined
  result: ScanResult
}

/** Entries of the transition table allowed (4 bytes each): far above any realistic rule set. */
const maxTableEntries = 16 * 2 ** 20

/**
 * Builds the automaton for `patterns`; pattern `i` is reported as `hitPattern[k] === i`.
 *
 * @param name - names the rule set in the error when the table would be too large.
 * @throws AppError `TRAMITE_RULES_INVALID` when the table would exceed 16 Mi entries.
 */
export function buildMatcher(
  patterns: readonly MatcherPattern[],
  name = 'patterns',
  options: MatcherOptions = {},
): Matcher {
  const alphabet = new Map<string, number>()
  const symbolFor = (char: string): number => {
    let symbol = alphabet.get(char)
    if (symbol === undefined) {
      symbol = alphabet.size + 2
      alphabet.set(char, symbol)
    }
    return symbol
  }
  const sequences = patterns.map((pattern) => {
    const sequence = [boundarySymbol]
    pattern.words.forEach((word, w) => {
      if (w > 0) sequence.push(boundarySymbol)
      for (let k = 0; k < word.length; k++) sequence.push(symbolFor(word[k] ?? ''))
    })
    if (!pattern.prefix) sequence.push(boundarySymbol)
    return sequence
  })
  const width = alphabet.size + 2

  // Trie.
  const children = [new Map<number, number>()]
  const own: number[][] = [[]]
  sequences.forEach((sequence, p) => {
    let state = 0
    for (const symbol of sequence) {
      let next = children[state]!.get(symbol)
      if (next === undefined) {
        next = children.length
        children.push(new Map())
        own.push([])
        children[state]!.set(symbol, next)
      }
      state = next
    }
    own[state]!.push(p)
  })
  const stateCount = children.length
  if (stateCount * width > maxTableEntries)
    throw new AppError(
      'TRAMITE_RULES_INVALID',
      `The ${name} compile to ${stateCount} states over ${width} symbols, more than the ${maxTableEntries} table entries allowed: use fewer terms or fewer distinct characters`,
      { details: { states: stateCount, symbols: width } },
    )

  // Failure links folded into a full transition table, breadth first.
  const next = new Int32Array(stateCount * width)
  const fail = new Int32Array(stateCount)
  const outputsOf: number[][] = own.map((list) => [...list])
  const queue: number[] = []
  for (let a = 0; a < width; a++) {
    const child = children[0]!.get(a)
    next[a] = child ?? 0
    if (child !== undefined) queue.push(child)
  }
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!
    const f = fail[u]!
    // fail[u] is shallower, so its outputs are already complete.
    if (outputsOf[f]!.length > 0) outputsOf[u] = [...outputsOf[u]!, ...outputsOf[f]!]
    for (let a = 0; a < width; a++) {
      const v = children[u]!.get(a)
      if (v === undefined) {
        next[u * width + a] = next[f * width + a]!
      } else {
        fail[v] = u === 0 ? 0 : next[f * width + a]!
        next[u * width + a] = v
        queue.push(v)
      }
    }
  }

  // Renumber: states without outputs first, so the scan loop tests one comparison per symbol.
  const order: number[] = []
  for (let s = 0; s < stateCount; s++) if (outputsOf[s]!.length === 0) order.push(s)
  const firstOutputState = order.length
  for (let s = 0; s < stateCount; s++) if (outputsOf[s]!.length > 0) order.push(s)
  const renumbered = new Int32Array(stateCount)
  order.forEach((old, id) => (renumbered[old] = id))
  const delta = new Int32Array(stateCount * width)
  const outputStart = new Int32Array(stateCount + 1)
  const flat: number[] = []
  order.forEach((old, id) => {
    for (let a = 0; a < width; a++)
      delta[id * width + a] = renumbered[next[old * width + a]!]! * width
    outputStart[id] = flat.length
    flat.push(...outputsOf[old]!)
  })
  outputStart[stateCount] = flat.length

  const ascii = new Int16Array(128)
  for (let c = 0; c < 128; c++) ascii[c] = symbolOf(alphabet, c)
  const impl: MatcherImpl = {
    patternWords: Int32Array.from(patterns, (p) => p.words.length),
    alphabet,
    delta,
    startRow: delta[renumbered[0]! * width + boundarySymbol]!,
    firstOutputRow: firstOutputState * width,
    width,
    outputStart,
    outputs: Int32Array.from(flat),
    ascii,
    unicode: new Int16Array(0x10000).fill(unknown),
    multi: new Map(),
    spelled: options.spelling === true ? new Uint16Array(256) : undefined,
    result: {
      hitCount: 0,
      hitPattern: new Int32Array(16),
      hitFirst: new Int32Array(16),
      hitLast: new Int32Array(16),
      wordCount: 0,
      wordStart: new Int32Array(256),
      wordEnd: new Int32Array(256),
      wordClause: new Int32Array(256),
    },
  }
  // The spelling fold writes DROPPED in place of a silent letter, and never a real one.
  if (impl.spelled !== undefined) impl.unicode[DROPPED] = dropped
  return { patternCount: patterns.length, stateCount, width, impl }
}

function symbolOf(alphabet: Map<string, number>, code: number): number {
  const folded = foldCodeUnit(code)
  if (typeof folded !== 'string') return folded
  return folded.length === 1 ? (alphabet.get(folded) ?? otherLetterSymbol) : multiple
}

function unicodeSymbol(m: MatcherImpl, code: number): number {
  let symbol = m.unicode[code]!
  if (symbol === unknown) {
    symbol = symbolOf(m.alphabet, code)
    if (symbol === multiple) {
      const folded = foldCodeUnit(code) as string
      m.multi.set(
        code,
        Int16Array.from(folded, (char) => m.alphabet.get(char) ?? otherLetterSymbol),
      )
    }
    m.unicode[code] = symbol
  }
  return symbol
}

function growWords(r: ScanResult, needed: number): void {
  const size = Math.max(needed, r.wordStart.length * 2)
  r.wordStart = new Int32Array(size)
  r.wordEnd = new Int32Array(size)
  r.wordClause = new Int32Array(size)
}

function recordOutputs(m: MatcherImpl, r: ScanResult, row: number, last: number): void {
  const state = (row / m.width) | 0
  for (let k = m.outputStart[state]!, end = m.outputStart[state + 1]!; k < end; k++) {
    const pattern = m.outputs[k]!
    const first = last - m.patternWords[pattern]! + 1
    // A term never spans a clause break: "no, quiero cancelar" is not "no quiero cancelar".
    if (r.wordClause[first] !== r.wordClause[last]) continue
    if (r.hitCount === r.hitPattern.length) {
      const size = r.hitCount * 2
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(size)
        b.set(a)
        return b
      }
      r.hitPattern = grow(r.hitPattern)
      r.hitFirst = grow(r.hitFirst)
      r.hitLast = grow(r.hitLast)
    }
    r.hitPattern[r.hitCount] = pattern
    r.hitFirst[r.hitCount] = first
    r.hitLast[r.hitCount] = last
    r.hitCount++
  }
}

/**
 * Finds every occurrence of every pattern in `text`, in one pass. The result is the matcher's
 * reused buffer: read it before the next scan.
 */
export function scan(matcher: Matcher, text: string): ScanResult {
  const m = matcher.impl
  const r = m.result
  const n = text.length
  // At most one word per two code units, plus one: sized once, no check in the loop.
  if (r.wordStart.length < (n >> 1) + 2) growWords(r, (n >> 1) + 2)
  const wordStart = r.wordStart
  const wordEnd = r.wordEnd
  const wordClause = r.wordClause
  const delta = m.delta
  const ascii = m.ascii
  const firstOutputRow = m.firstOutputRow
  let spelled = m.spelled
  if (spelled !== undefined) {
    if (spelled.length < n) spelled = m.spelled = new Uint16Array(n * 2)
    spellingFold(text, spelled)
  }
  let row = m.startRow
  let words = 0
  let clause = 0
  let inWord = false
  r.hitCount = 0
  for (let i = 0; i < n; i++) {
    const code = spelled === undefined ? text.charCodeAt(i) : spelled[i]!
    const symbol = code < 128 ? ascii[code]! : unicodeSymbol(m, code)
    if (symbol >= 0) {
      if (!inWord) {
        wordStart[words] = i
        wordClause[words] = clause
        inWord = true
      }
      row = delta[row + symbol]!
      if (row >= firstOutputRow) recordOutputs(m, r, row, words)
    } else if (symbol === separator || symbol === clauseBreak) {
      if (inWord) {
        wordEnd[words] = i
        inWord = false
        row = delta[row + boundarySymbol]!
        if (row >= firstOutputRow) recordOutputs(m, r, row, words)
        words++
      }
      if (symbol === clauseBreak) clause++
    } else if (symbol === multiple) {
      if (!inWord) {
        wordStart[words] = i
        wordClause[words] = clause
        inWord = true
      }
      for (const s of m.multi.get(code)!) {
        row = delta[row + s]!
        if (row >= firstOutputRow) recordOutputs(m, r, row, words)
      }
    } else if (symbol === dropped && !inWord) {
      wordStart[words] = i
      wordClause[words] = clause
      inWord = true
    }
    // IGNORABLE: the word goes on; its end is set by whatever ends it.
  }
  if (inWord) {
    wordEnd[words] = n
    row = delta[row + boundarySymbol]!
    if (row >= firstOutputRow) recordOutputs(m, r, row, words)
    words++
  }
  r.wordCount = words
  return r
}
