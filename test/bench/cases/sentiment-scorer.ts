/*
 * The text sentiment row: the project's Spanish scorer (lexicon, accent folding, emoji, negation
 * to the end of its clause, intensifiers, domain exceptions, every contribution explained) over
 * chat lines of its tuned set, on one core; BENCH_SIDE=naive is the baseline: the same lexicon's
 * single words looked up one by one in a Map after lower-casing and stripping accents, with
 * nothing else (no phrases, negation, intensifiers or explanations): what the rules cost.
 * Env: BENCH_SIDE (scorer | naive), BENCH_MESSAGES (500000).
 */
import { loadLabelledSet, scoreText, tunedSetPath } from '@wolkvox-chat-stream/text-sentiment'
import { numberFromEnv, reportResult } from '../case-support.js'

const side = process.env.BENCH_SIDE ?? 'scorer'
const count = numberFromEnv('BENCH_MESSAGES', 500_000)
const lines = loadLabelledSet(tunedSetPath).map((l) => l.text)
const texts = Array.from({ length: count }, (_, i) => lines[i % lines.length]!)

const fold = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

/**
 * The naive baseline's word weights: each single word of the input that the scorer matched, with
 * its lexicon weight.
 */
function naiveScorer(): (text: string) => number {
  const weights = new Map<string, number>()
  for (const text of lines)
    for (const match of scoreText(text).matches) {
      const word = fold(text.slice(match.start, match.end))
      if (/^\w+$/u.test(word)) weights.set(word, match.base)
    }
  return (text) => {
    let score = 0
    for (const word of fold(text).split(/\W+/u)) score += weights.get(word) ?? 0
    return score
  }
}

const score: (text: string) => unknown = side === 'naive' ? naiveScorer() : scoreText
let sink = 0
for (let i = 0; i < Math.min(50_000, count); i++) sink += score(texts[i]!) === undefined ? 0 : 1
const started = performance.now()
for (const text of texts) sink += score(text) === undefined ? 0 : 1
const durationMs = performance.now() - started
if (sink === 0) throw new Error('the scorer returned nothing')
reportResult({ items: count, durationMs })
