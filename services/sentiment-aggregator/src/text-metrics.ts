/*
 * The counter of messages scored from their text (README: Sources, Metrics). A message is
 * counted when the chunk that counted it is stored, not when it is scored: a chunk handled again
 * (a retry after Redis or the broker was away) must not count its messages twice. So the batch
 * handler notes each text-scored revision by its offset, and the kit's afterStateStored hook
 * counts the notes up to the offset it stored. A rebuild (the partition replayed from its first
 * offset) scores and counts the partition's messages again: the counter is for rates, not totals.
 */
import type { MetricsRegistry } from '@wolkvox-chat-stream/observability'
import { textSentiments, type TextSentiment } from './aggregation.js'

/** A fresh revision counted from its text: its input offset and the sentiment it was scored. */
export interface TextScored {
  offset: string
  sentiment: TextSentiment
}

export interface TextMetrics {
  /** Notes what a batch of `partition` counted from text; counted once that chunk is stored. */
  noted(partition: number, scored: readonly TextScored[]): void
  /** Counts the notes of `partition` at or below `lastOffset` (the offset the kit stored). */
  stored(partition: number, lastOffset: string): void
}

/**
 * Declares `wolkvox_sentiment_text_scored_total{sentiment}` on `metrics` (the service's registry):
 * customer messages without a Wolkvox feeling whose text was scored and counted, per scored
 * sentiment (the five values, all declared at 0 so that the first one is an increase).
 */
export function createTextMetrics(metrics: MetricsRegistry): TextMetrics {
  const scored = metrics.counter({
    name: 'wolkvox_sentiment_text_scored_total',
    help: 'Customer messages without a Wolkvox feeling (sentiment unknown) whose non-empty text the aggregator scored with its own Spanish scorer and counted, by the sentiment scored; counted when their chunk is stored (a rebuild counts again).',
    labelNames: ['sentiment'],
  })
  for (const sentiment of textSentiments) scored.inc({ sentiment }, 0)
  // partition -> offset -> sentiment; a chunk handled again overwrites its own notes.
  const notes = new Map<number, Map<string, TextSentiment>>()
  return {
    noted(partition, list) {
      if (list.length === 0) return
      let byOffset = notes.get(partition)
      if (byOffset === undefined)
        notes.set(partition, (byOffset = new Map<string, TextSentiment>()))
      for (const { offset, sentiment } of list) byOffset.set(offset, sentiment)
    },
    stored(partition, lastOffset) {
      const byOffset = notes.get(partition)
      if (byOffset === undefined) return
      const last = Number(lastOffset)
      for (const [offset, sentiment] of byOffset) {
        if (Number(offset) > last) continue
        scored.inc({ sentiment })
        byOffset.delete(offset)
      }
      if (byOffset.size === 0) notes.delete(partition)
    },
  }
}
