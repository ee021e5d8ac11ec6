/** `agent_key` of AgentSentiment and ChatQuality: one definition, in packages/config. */
export { agentKeyOf, MAX_AGENT_KEY_LENGTH } from '@wolkvox-chat-stream/config'
