export {
  createConsumerService,
  type ConsumerService,
  type ServicePhase,
  type ServiceStats,
  type ServiceStatus,
} from './consumer-service.js'
export type {
  BatchContext,
  ConsumerHooks,
  ConsumerServiceOptions,
  Delivered,
  EventContext,
  MessageInfo,
  PreviousRevision,
  RevisionOptions,
  RouteContext,
  ServiceRoute,
} from './options.js'
export { runService, type RunServiceOptions } from './run-service.js'
export {
  readConsumerConfig,
  type ConsumerConfigDefaults,
  type ConsumerServiceConfig,
} from './config.js'
export {
  stateCommands,
  type OpGroup,
  type StateCommand,
  type StateOp,
  type StateWriter,
} from './state-ops.js'
export { applyScriptKeys } from './state-store.js'
export { createStateReader, type StateReader } from './state-reader.js'
export {
  assertServiceName,
  encodeKeyPart,
  serviceKeys,
  type KeyPath,
  type ServiceKeys,
} from './keys.js'
export { buildApplyScript, type ApplyScript } from './apply-script.js'
export { deadLetterRecord, readDeadLetter, type DeadLetter } from './dead-letter.js'
export {
  deleteServiceState,
  readDeadLetters,
  redriveDeadLetters,
  redriveGroup,
  requestRebuild,
  summarizeDeadLetters,
  type DeadLetterSummary,
  type RedriveResult,
} from './operator.js'
export { scaffoldConsumerService, type ScaffoldOptions } from './scaffold.js'
export { createTestContext } from './testing.js'
export { sendJson } from './http.js'
export { clearDirtyScript, openServiceOutput, type ServiceOutput } from './output.js'
export { Stopped } from './retry.js'
export {
  changeOf,
  createConversationEmitter,
  isDue,
  type ConversationEmitter,
  type EmitState,
  type ConversationEmitterOptions,
  type EmitAction,
  type EmitChange,
  type EmitOutcome,
  type Plan,
  type PlanContext,
  type PlannedRecord,
} from './conversation-emitter.js'
export { createEmitLoop, type EmitLoop } from './emit-loop.js'
export {
  conversationScript,
  memberOf,
  parseMember,
  recordConversations,
  type ConversationEvent,
  type ConversationKeeping,
} from './conversation-state.js'
export {
  createConversationService,
  emitReasons,
  type ConversationServiceOptions,
} from './conversation-service.js'
