/**
 * Sentiment of one Spanish contact-center chat line, from an own lexicon, in one pass; pure
 * functions, no I/O beyond reading the files given to the loader.
 *
 * ```ts
 * scoreText('PÉSIMO servicio, no me han solucionado nada 😡').sentiment // 'very_negative'
 * ```
 */
export { measureThroughput, type Throughput, type ThroughputOptions } from './bench.js'
export {
  evaluateSentiment,
  loadLabelledSet,
  parseLabelledSet,
  polarityOf,
  type ClassScores,
  type LabelledLine,
  type SentimentReport,
} from './evaluate.js'
export { foldText } from './fold.js'
export { scoreLine, scoreLines } from './lines.js'
export {
  lexiconSize,
  maxTextLength,
  scoreText,
  scoring,
  sentimentOf,
  sentiments,
  type Sentiment,
  type SentimentMatch,
  type SentimentScore,
} from './score.js'
export { heldOutSetPath, tunedSetPath } from './paths.js'
