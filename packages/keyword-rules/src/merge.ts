import { weightScore } from './classify.js'
import { termWeights } from './compile.js'
import type { Classification, ExcludedMatch, Explanation, TramiteLabel } from './types.js'

/** What ordering labels needs of a trámite. */
export interface TramiteInfo {
  label: string
  priority: number
}

/** One message's matches, as {@link classifyMessage} found them. */
export interface MessageMatches {
  explanations: readonly Explanation[]
  excluded?: readonly ExcludedMatch[]
  /** The message's `position`, copied to its explanations. */
  position?: number
}

/**
 * A conversation's classification from the matches of its messages, each found on its own by
 * `classifyMessage` and given in conversation order: the same result `classifyConversation` gives
 * on the texts (each distinct term weighs once across the conversation, a satisfied allOf once),
 * so a service can keep the matches of each message instead of its text. Explanations get
 * `messageIndex` (index in `messages`) and `position`. `tramite` tells label and priority of a
 * trámite id, for ordering ties.
 */
export function mergeMessageMatches(
  rulesVersion: string,
  messages: readonly MessageMatches[],
  tramite: (id: string) => TramiteInfo,
): Classification {
  const weights = new Map<string, number>()
  const counted = new Set<string>()
  const explanations: Explanation[] = []
  const excluded: ExcludedMatch[] = []
  const place = <T extends Explanation>(e: T, index: number, position: number | undefined): T =>
    position === undefined ? { ...e, messageIndex: index } : { ...e, messageIndex: index, position }
  messages.forEach((message, index) => {
    for (const e of message.explanations) {
      explanations.push(place(e, index, message.position))
      // A distinct term weighs once; so does a satisfied allOf, whatever its terms.
      const key = e.kind === 'allOf' ? `${e.rule}\u0001` : `${e.rule}\u0000${e.term}`
      if (counted.has(key)) continue
      counted.add(key)
      weights.set(e.rule, (weights.get(e.rule) ?? 0) + termWeights[e.kind])
    }
    for (const e of message.excluded ?? []) excluded.push(place(e, index, message.position))
  })
  const ranked = [...weights].map(([id, weight]) => ({ id, weight, ...tramite(id) }))
  ranked.sort((a, b) => b.weight - a.weight || b.priority - a.priority || (a.id < b.id ? -1 : 1))
  const labels: TramiteLabel[] = ranked.map((r) => ({
    id: r.id,
    label: r.label,
    score: weightScore(r.weight),
  }))
  return { rulesVersion, labels, primary: labels[0]?.id ?? null, explanations, excluded }
}
