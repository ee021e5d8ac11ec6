/*
 * Protocol checks of a conversation's agent messages, from a rules file in the keyword rules
 * format (packages/keyword-rules): each rule is a check. A rule whose id starts with `no-` is a
 * forbidden expression (the check passes when nothing matches); every other rule is required (it
 * passes when a term matches in some agent message). Each check carries the explanations of its
 * matches: which message (position), which term, the text as written.
 */
import {
  classifyConversation,
  type CompiledRules,
  type ConversationMessage,
  type Explanation,
  type RuleSet,
} from '@wolkvox-chat-stream/keyword-rules'

/** A check's kind, from its rule id. */
export type CheckKind = 'required' | 'forbidden'

/** The kind of the check a rule id names: `no-…` is forbidden, anything else required. */
export const checkKindOf = (id: string): CheckKind =>
  id.startsWith('no-') ? 'forbidden' : 'required'

/** Whether a check passes: a required one when something matched, a forbidden one when nothing did. */
export const checkPassed = (kind: CheckKind, matched: boolean): boolean =>
  kind === 'required' ? matched : !matched

/** One check of one conversation. */
export interface ProtocolCheck {
  id: string
  label: string
  kind: CheckKind
  passed: boolean
  /** The matches that decided it: for a required check, what satisfied it; for a forbidden one, what broke it. */
  explanations: Explanation[]
}

/**
 * Runs every check of `ruleSet` (compiled as `rules`) over a conversation's messages. Only the
 * senders each rule names are read (the shipped rules name `agent`).
 */
export function protocolChecks(
  ruleSet: RuleSet,
  rules: CompiledRules,
  messages: readonly ConversationMessage[],
): ProtocolCheck[] {
  const found = classifyConversation(rules, messages)
  const matched = new Set(found.labels.map((l) => l.id))
  return ruleSet.tramites.map((rule) => {
    const kind = checkKindOf(rule.id)
    const hit = matched.has(rule.id)
    return {
      id: rule.id,
      label: rule.label,
      kind,
      passed: checkPassed(kind, hit),
      explanations: found.explanations.filter((e) => e.rule === rule.id),
    }
  })
}
