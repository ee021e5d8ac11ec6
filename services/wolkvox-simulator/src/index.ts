export {
  computeTruth,
  reportsManagerPath,
  startSimulator,
  type RunningSimulator,
  type SimulatorOptions,
  type SimulatorSettings,
  type Truth,
  type TruthOptions,
  type TruthWindow,
} from './simulator.js'
export {
  findOverlaps,
  tokenFingerprint,
  type CallOutcome,
  type Overlap,
  type SimCall,
} from './calls.js'
export { faultKinds, parseFaultSpec, type Fault, type FaultSpec } from './faults.js'
export { operationSeed, operationToken, type OperationStatus } from './operations.js'
export {
  connIdOf,
  createDataset,
  DATASET_CACHE_LIMITS,
  expectationOf,
  planHour,
  writeChat,
  MAX_CHAT_DURATION_SEC,
  RETURN_LAG_HOURS,
  RETURN_SAME_TRAMITE,
  RETURN_SHARE,
  type ChatHeader,
  type ReturnPlan,
  type Dataset,
  type DatasetCacheLimits,
  type DatasetOptions,
  type Selection,
  type SimChat,
  type SimMessage,
} from './dataset.js'
export { applyRowCap, texts, type ChatItem, type RowCapUnit } from './responses.js'
export { readSimulatorConfig, simulatorFlags, usage, type SimulatorConfig } from './config.js'
export {
  expectedFcr,
  plannedTimings,
  type ChatExpectation,
  type ExpectedChecks,
  type ExpectedFcr,
  type ExpectedFcrOutcome,
  type ExpectedSenderCounts,
  type ExpectedTimings,
  type PlannedRole,
  type ReturnOf,
} from './expectations.js'
export {
  expectedEvents,
  writtenFeeling,
  type ChatIntent,
  type ExpectedEvent,
  type ExpectedSender,
  type ExpectedSentiment,
  type FeelingMode,
  type IntendedFeeling,
  type MessageIntent,
  type PendingValues,
} from './expected-events.js'
export { agentProfiles, delays, type AgentProfile, type SecondsRange } from './profiles.js'
export {
  labelledCustomerLines,
  tramiteIntentOf,
  tramitesNamedBy,
  type IntendedTramite,
  type TramiteIntent,
  type UnnamedReason,
  type WrittenLine,
} from './tramite-intent.js'
export * as catalog from './catalog.js'
export type { Tramite } from './catalog.js'
