import {
  kindAllOf,
  kindExclusion,
  kindKeyword,
  senderBit,
  termWeights,
  type CompiledRules,
  type Plan,
} from './compile.js'
import { scan, type ScanResult } from './matcher.js'
import type {
  Classification,
  ConversationMessage,
  ExcludedMatch,
  Explanation,
  Sender,
  TermKind,
  TramiteLabel,
} from './types.js'

// Read once: a bundler or loader may turn imported bindings into getter calls in the hot path.
const KEYWORD = kindKeyword
const ALL_OF = kindAllOf
const EXCLUSION = kindExclusion
const KEYWORD_WEIGHT = termWeights.keyword
const PHRASE_WEIGHT = termWeights.phrase
const ALL_OF_WEIGHT = termWeights.allOf
const kindNames: readonly TermKind[] = ['keyword', 'phrase', 'allOf']

/** What one classification gathers; the plan's counters are reset from `seenSlots` after it. */
interface Collected {
  explanations: Explanation[]
  excluded: ExcludedMatch[]
  seenSlots: number[]
}

/**
 * Classifies one message. Only trámites whose `senders` include `sender` are considered.
 * Offsets in the explanations are UTF-16 offsets into `text`.
 */
export function classifyMessage(
  rules: CompiledRules,
  text: string,
  sender: Sender = 'customer',
): Classification {
  const collected: Collected = { explanations: [], excluded: [], seenSlots: [] }
  try {
    addMessage(rules, text, senderBit(sender), undefined, undefined, collected)
    return finish(rules, collected)
  } finally {
    reset(rules.plan, collected)
  }
}

/**
 * Classifies a conversation from its messages: each message is matched on its own (exclusions
 * and allOf groups act within one message), then a trámite's weight counts each distinct term
 * once across the conversation, and a satisfied allOf once. Explanations carry `messageIndex`
 * (index in `messages`) and `position`.
 */
export function classifyConversation(
  rules: CompiledRules,
  messages: readonly ConversationMessage[],
): Classification {
  const collected: Collected = { explanations: [], excluded: [], seenSlots: [] }
  try {
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!
      addMessage(rules, message.text, senderBit(message.sender), i, message.position, collected)
    }
    return finish(rules, collected)
  } finally {
    reset(rules.plan, collected)
  }
}

function addMessage(
  rules: CompiledRules,
  text: string,
  bit: number,
  messageIndex: number | undefined,
  position: number | undefined,
  out: Collected,
): void {
  const plan = rules.plan
  if ((plan.senderMask & bit) === 0) return
  const r = scan(rules.matcher, text)
  if (r.hitCount === 0) return
  const { refStart, refRule, refKind, ruleSenderMask } = plan

  // Exclusions first, as [ref, first word, last word] triples: usually none.
  let exclusions: number[] | undefined
  for (let h = 0; h < r.hitCount; h++) {
    const p = r.hitPattern[h]!
    for (let k = refStart[p]!; k < refStart[p + 1]!; k++) {
      if (refKind[k] !== EXCLUSION || (ruleSenderMask[refRule[k]!]! & bit) === 0) continue
      const first = termStart(plan, r, k, r.hitFirst[h]!, r.hitLast[h]!)
      if (first >= 0) (exclusions ??= []).push(k, first, r.hitLast[h]!)
    }
  }

  let pendingAllOf: number[] | undefined
  for (let h = 0; h < r.hitCount; h++) {
    const p = r.hitPattern[h]!
    const last = r.hitLast[h]!
    for (let k = refStart[p]!; k < refStart[p + 1]!; k++) {
      const kind = refKind[k]!
      const rule = refRule[k]!
      if (kind === EXCLUSION || (ruleSenderMask[rule]! & bit) === 0) continue
      const first = termStart(plan, r, k, r.hitFirst[h]!, last)
      if (first < 0) continue
      if (exclusions !== undefined) {
        const by = overlappingExclusion(plan, exclusions, rule, first, last)
        if (by >= 0) {
          const excluded = explain(rules, r, text, k, first, last, messageIndex, position)
          const exclusionStart = r.wordStart[exclusions[by + 1]!]!
          const exclusionEnd = r.wordEnd[exclusions[by + 2]!]!
          out.excluded.push({
            ...excluded,
            exclusion: plan.refTerm[exclusions[by]!]!,
            exclusionText: text.slice(exclusionStart, exclusionEnd),
          })
          continue
        }
      }
      if (kind === ALL_OF) {
        plan.ruleGroups[rule]! |= 1 << plan.refGroup[k]!
        ;(pendingAllOf ??= []).push(k, first, last)
        continue
      }
      out.explanations.push(explain(rules, r, text, k, first, last, messageIndex, position))
      const slot = plan.refSlot[k]!
      if (plan.slotSeen[slot] === 0) {
        plan.slotSeen[slot] = 1
        out.seenSlots.push(slot)
        addWeight(plan, rule, kind === KEYWORD ? KEYWORD_WEIGHT : PHRASE_WEIGHT)
      }
    }
  }

  if (pendingAllOf !== undefined) {
    for (let i = 0; i < pendingAllOf.length; i += 3) {
      const k = pendingAllOf[i]!
      const rule = refRule[k]!
      if (plan.ruleGroups[rule] !== plan.ruleAllOfMask[rule]) continue
      const first = pendingAllOf[i + 1]!
      const last = pendingAllOf[i + 2]!
      out.explanations.push(explain(rules, r, text, k, first, last, messageIndex, position))
      if (plan.ruleAllOfDone[rule] === 0) {
        plan.ruleAllOfDone[rule] = 1
        addWeight(plan, rule, ALL_OF_WEIGHT)
      }
    }
    // Groups count within one message only.
    for (let i = 0; i < pendingAllOf.length; i += 3) plan.ruleGroups[refRule[pendingAllOf[i]!]!] = 0
  }
}

function explain(
  rules: CompiledRules,
  r: ScanResult,
  text: string,
  k: number,
  first: number,
  last: number,
  messageIndex: number | undefined,
  position: number | undefined,
): Explanation {
  const plan = rules.plan
  const start = r.wordStart[first]!
  const end = r.wordEnd[last]!
  const explanation: Explanation = {
    rule: rules.tramites[plan.refRule[k]!]!.id,
    term: plan.refTerm[k]!,
    kind: kindNames[plan.refKind[k]!]!,
    matchedText: text.slice(start, end),
    start,
    end,
  }
  if (plan.refTypo[k] === 1) explanation.typo = true
  if (messageIndex !== undefined) explanation.messageIndex = messageIndex
  if (position !== undefined) explanation.position = position
  return explanation
}

/**
 * First word of the term of reference `k`, whose last segment was hit at `first`..`last`; -1 when
 * an earlier segment of a compound term is not right before it, or the term spans a clause.
 */
function termStart(plan: Plan, r: ScanResult, k: number, first: number, last: number): number {
  const compound = plan.refCompound[k]!
  if (compound < 0) return first
  let start = first
  for (let s = plan.compoundStart[compound + 1]! - 2; s >= plan.compoundStart[compound]!; s--) {
    const pattern = plan.compoundPatterns[s]!
    let found = -1
    for (let h = 0; h < r.hitCount; h++) {
      if (r.hitPattern[h] === pattern && r.hitLast[h] === start - 1) {
        found = r.hitFirst[h]!
        break
      }
    }
    if (found < 0) return -1
    start = found
  }
  return r.wordClause[start] === r.wordClause[last] ? start : -1
}

function overlappingExclusion(
  plan: Plan,
  exclusions: readonly number[],
  rule: number,
  first: number,
  last: number,
): number {
  for (let i = 0; i < exclusions.length; i += 3) {
    if (
      plan.refRule[exclusions[i]!] === rule &&
      exclusions[i + 1]! <= last &&
      exclusions[i + 2]! >= first
    )
      return i
  }
  return -1
}

function addWeight(plan: Plan, rule: number, weight: number): void {
  if (plan.ruleWeight[rule] === 0) plan.touched.push(rule)
  plan.ruleWeight[rule]! += weight
}

/** The score of a trámite whose distinct matched terms weigh `weight`: `1 − 2^−w`, 3 decimals. */
export const weightScore = (weight: number): number => Math.round((1 - 2 ** -weight) * 1000) / 1000

function finish(rules: CompiledRules, collected: Collected): Classification {
  const plan = rules.plan
  const touched = plan.touched
  if (touched.length > 1) {
    touched.sort((a, b) => {
      const x = rules.tramites[a]!
      const y = rules.tramites[b]!
      return (
        plan.ruleWeight[b]! - plan.ruleWeight[a]! ||
        y.priority - x.priority ||
        (x.id < y.id ? -1 : 1)
      )
    })
  }
  const labels: TramiteLabel[] = []
  for (const rule of touched) {
    const tramite = rules.tramites[rule]!
    labels.push({
      id: tramite.id,
      label: tramite.label,
      score: weightScore(plan.ruleWeight[rule]!),
    })
  }
  return {
    rulesVersion: rules.version,
    labels,
    primary: labels[0]?.id ?? null,
    explanations: inTextOrder(collected.explanations),
    excluded: inTextOrder(collected.excluded),
  }
}

const byPlace = (a: Explanation, b: Explanation): number =>
  (a.messageIndex ?? 0) - (b.messageIndex ?? 0) || a.start - b.start

function inTextOrder<T extends Explanation>(list: T[]): T[] {
  // Hits arrive by end offset (a prefix fires inside its word), so a sort is rarely needed.
  for (let i = 1; i < list.length; i++) {
    if (byPlace(list[i - 1]!, list[i]!) > 0) return list.sort(byPlace)
  }
  return list
}

function reset(plan: Plan, collected: Collected): void {
  for (const rule of plan.touched) {
    plan.ruleWeight[rule] = 0
    plan.ruleAllOfDone[rule] = 0
  }
  plan.touched.length = 0
  for (const slot of collected.seenSlots) plan.slotSeen[slot] = 0
}
