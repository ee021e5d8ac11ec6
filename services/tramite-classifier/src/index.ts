export * from '@wolkvox-chat-stream/keyword-rules'
export { readClassifierConfig, shippedRulesFile, type ClassifierConfig } from './config.js'
export {
  classify,
  countField,
  fingerprint,
  matchMessage,
  memberOf,
  parseConversation,
  recordOf,
  type Classified,
  type ConversationState,
  type StoredMatches,
} from './conversation.js'
export { createEmitter, type EmitAction, type EmitOutcome, type Emitter } from './emitter.js'
export { classifierRoutes, parseQueryDay, summarizeCounts } from './http.js'
export { paths, readConversation, readCounts, type CountLine } from './queries.js'
export { parseRangeBound, reclassify, type ReclassifySummary } from './reclassify.js'
export {
  conversationKey,
  conversationScript,
  recordScript,
  recordScriptKeys,
  rematchScript,
  rematchScriptKeys,
} from './scripts.js'
export {
  SERVICE_NAME,
  createTramiteClassifier,
  recordBatch,
  type TramiteClassifier,
  type TramiteClassifierOptions,
} from './service.js'
