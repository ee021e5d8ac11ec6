/**
 * An agent's identity in the aggregates (`AgentSentiment.agent_key`, `ChatQuality.agent_key`):
 * the display name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased.
 */
export function agentKeyOf(agentName: string): string {
  return agentName.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase()
}
