/*
 * Shared input of the classifier benchmark cases: the shipped rule set and the labelled
 * evaluation messages, cycled to BENCH_MESSAGES (not a case itself).
 */
import { fileURLToPath } from 'node:url'
import {
  loadEvalSet,
  loadRules,
  type RuleSet,
  type Sender,
} from '@wolkvox-chat-stream/keyword-rules'
import { numberFromEnv } from '../case-support.js'

const serviceDir = new URL('../../../services/tramite-classifier/', import.meta.url)

/** The shipped rule set, validated. */
export const ruleSet: RuleSet = loadRules(
  fileURLToPath(new URL('rules/tramites.es.json', serviceDir)),
)

const labelled = loadEvalSet(fileURLToPath(new URL('eval/labelled.es.jsonl', serviceDir)))

/** `count` messages drawn in turn from the evaluation set (typical chat lines, ~37 characters). */
export function benchMessages(count: number): { text: string; sender: Sender }[] {
  return Array.from({ length: count }, (_, i) => {
    const { text, sender } = labelled[i % labelled.length]!
    return { text, sender }
  })
}

/** Messages to time, and a shorter run first so both sides are measured after JIT warm-up. */
export const messageCount = numberFromEnv('BENCH_MESSAGES', 500_000)
export const warmUpCount = Math.min(50_000, messageCount)
