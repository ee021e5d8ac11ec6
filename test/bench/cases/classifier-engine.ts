/*
 * Subject of the trámite classifier row: the compiled engine (one automaton for the whole shipped
 * rule set) classifying each message with labels, scores and explanations, accent and case
 * folding included. Env: BENCH_MESSAGES (500000).
 */
import { classifyMessage, compileRules } from '@wolkvox-chat-stream/keyword-rules'
import { reportResult } from '../case-support.js'
import { benchMessages, messageCount, ruleSet, warmUpCount } from './classifier-messages.js'

const rules = compileRules(ruleSet)

let labels = 0
for (const { text, sender } of benchMessages(warmUpCount))
  labels += classifyMessage(rules, text, sender).labels.length
const messages = benchMessages(messageCount)
const started = performance.now()
for (const { text, sender } of messages)
  labels += classifyMessage(rules, text, sender).labels.length
const durationMs = performance.now() - started
if (labels === 0) throw new Error('the engine found no trámite at all')
reportResult({ items: messageCount, durationMs })
