/** Who wrote a message: the same values as `ChatMessage.sender`. */
export type Sender = 'customer' | 'agent' | 'bot' | 'other'

/** Every sender, in the order used for sender masks. */
export const senders: readonly Sender[] = ['customer', 'agent', 'bot', 'other']

/** One trámite of a rule set, as validated by {@link parseRules} (defaults filled in). */
export interface TramiteRule {
  /** Stable identifier (`[a-z0-9][a-z0-9_-]*`), used in events and counts. */
  id: string
  /** Human label, e.g. `Certificados y constancias`. */
  label: string
  /** Free text for rule authors; not used in matching. */
  description?: string
  /** Multi-word terms; weight 2 each. */
  phrases: string[]
  /** Single words, `certificad*` for a prefix; weight 1 each. */
  keywords: string[]
  /** Groups of terms: the rule also matches when every group has a term in one message. */
  allOf: string[][]
  /** Terms that cancel any match of this rule they overlap, e.g. `no quiero cancelar`. */
  exclusions: string[]
  /** Senders whose messages this rule reads; `['customer']` by default. */
  senders: Sender[]
  /** Breaks ties between equal scores: higher first. 0 by default. */
  priority: number
}

/** A validated rule set. */
export interface RuleSet {
  /** The rule set's version, stamped on every classification. */
  version: string
  tramites: TramiteRule[]
}

/** How a term took part in a match. */
export type TermKind = 'phrase' | 'keyword' | 'allOf'

/** Why a trámite was assigned: one occurrence of one term. */
export interface Explanation {
  /** The trámite id. */
  rule: string
  /** The term as written in the rules file, e.g. `certificad*`. */
  term: string
  kind: TermKind
  /** The original text that matched (a whole word for a prefix term). */
  matchedText: string
  /** UTF-16 offsets of `matchedText` in the original message text. */
  start: number
  end: number
  /** Present when `matchedText` is one slip of the fingers away from the term (a letter missing or two swapped). */
  typo?: true
  /** Index of the message in the conversation given (conversation results only). */
  messageIndex?: number
  /** `position` of that message (conversation results only). */
  position?: number
}

/** A term occurrence that an exclusion cancelled, kept so that a non-match can be explained too. */
export interface ExcludedMatch extends Explanation {
  /** The exclusion as written in the rules file. */
  exclusion: string
  /** The original text that matched the exclusion. */
  exclusionText: string
}

/** One trámite found, with its score in (0, 1]. */
export interface TramiteLabel {
  id: string
  label: string
  /** `1 - 2^-w`, rounded to 3 decimals, where `w` is the weight of the distinct terms matched. */
  score: number
}

/** The classification of a message or a conversation. */
export interface Classification {
  rulesVersion: string
  /** Every trámite found, best first (score, then priority, then id). */
  labels: TramiteLabel[]
  /** The first label's id, or null when no trámite was found. */
  primary: string | null
  /** Every term occurrence that counted, in text order. */
  explanations: Explanation[]
  /** Term occurrences cancelled by an exclusion, in text order. */
  excluded: ExcludedMatch[]
}

/** One message of a conversation, as {@link classifyConversation} reads it. */
export interface ConversationMessage {
  text: string
  sender: Sender
  position: number
}
