/*
 * Baseline of the trámite classifier row: the naive way, one precompiled RegExp per phrase,
 * keyword, allOf term and exclusion, tried in a loop over every rule for every message, on text
 * folded with String.prototype.normalize (NFD, marks removed, lower case). It computes only the
 * set of trámites (exclusions act on the whole message), less work than the engine, which also
 * builds explanations. Env: BENCH_MESSAGES (500000).
 */
import { reportResult } from '../case-support.js'
import { benchMessages, messageCount, ruleSet, warmUpCount } from './classifier-messages.js'

const fold = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function termRegExp(term: string): RegExp {
  const words = fold(term)
    .split(/[^a-z0-9*]+/)
    .filter((word) => word !== '')
  const body = words
    .map((word) =>
      word.endsWith('*') ? `${escape(word.slice(0, -1))}[a-z0-9]*` : `${escape(word)}\\b`,
    )
    .join('[^a-z0-9]+')
  return new RegExp(`\\b${body}`)
}

const rules = ruleSet.tramites.map((rule) => ({
  id: rule.id,
  senders: new Set<string>(rule.senders),
  terms: [...rule.phrases, ...rule.keywords].map(termRegExp),
  allOf: rule.allOf.map((group) => group.map(termRegExp)),
  exclusions: rule.exclusions.map(termRegExp),
}))

function classify(text: string, sender: string): string[] {
  const folded = fold(text)
  const found: string[] = []
  for (const rule of rules) {
    if (!rule.senders.has(sender)) continue
    const matched =
      rule.terms.some((re) => re.test(folded)) ||
      (rule.allOf.length > 0 && rule.allOf.every((group) => group.some((re) => re.test(folded))))
    if (matched && !rule.exclusions.some((re) => re.test(folded))) found.push(rule.id)
  }
  return found
}

let labels = 0
for (const { text, sender } of benchMessages(warmUpCount)) labels += classify(text, sender).length
const messages = benchMessages(messageCount)
const started = performance.now()
for (const { text, sender } of messages) labels += classify(text, sender).length
const durationMs = performance.now() - started
if (labels === 0) throw new Error('the baseline found no trámite at all')
reportResult({ items: messageCount, durationMs })
