import { fileURLToPath } from 'node:url'

/** The labelled set the lexicon was tuned on (`eval/tuned.es.jsonl` of this package). */
export const tunedSetPath: string = fileURLToPath(
  new URL('../eval/tuned.es.jsonl', import.meta.url),
)

/**
 * The held-out labelled set (`eval/heldout.es.jsonl`): written by another author without seeing
 * the lexicon, frozen, and only scored; the lexicon is never tuned on it.
 */
export const heldOutSetPath: string = fileURLToPath(
  new URL('../eval/heldout.es.jsonl', import.meta.url),
)
