export {
  readPollerConfig,
  reserveCalls,
  type OperationConfig,
  type PollerConfig,
  type QuotaReserve,
} from './config.js'
export { parseOperationsFile, type OperationDefaults } from './operations-file.js'
export {
  createOperationHandle,
  createPollerRuntime,
  type OperationHandle,
  type PollOptions,
  type PollerRuntime,
} from './runtime.js'
export { createPollerService, type PollerService } from './service.js'
export { runBackfill, type BackfillResult } from './backfill.js'
export { backfillKeys, createBackfillStore, type BackfillStore } from './backfill-store.js'
export {
  SCHEDULE_PREFIX,
  SCHEDULE_QUEUE,
  createBullSchedule,
  scheduleKeys,
  type SchedulerSpec,
} from './adapters/bullmq-schedule.js'
export {
  briefOf,
  classifyOperation,
  lagSecondsOf,
  lagThresholdSeconds,
  OPERATION_STATES,
  readFleetSummary,
  readOperationFacts,
  readOperationStatus,
  readServerList,
  readStatusPage,
  selectOperations,
  stateRules,
  STATUS_DEFAULT_LIMIT,
  STATUS_MAX_LIMIT,
  summarize,
  worstFirst,
  type FleetSummary,
  type OperationBrief,
  type OperationFacts,
  type OperationState,
  type OperationStatus,
  type ServerList,
  type StateFacts,
  type StateRules,
  type StatusPage,
  type StatusPageInfo,
  type StatusQuery,
  type StuckWindow,
} from './status.js'
export {
  createStatusRouter,
  offsetParser,
  pollerStatusSource,
  stateListParser,
  type StatusSource,
} from './status-http.js'
export {
  createOperationStore,
  coverageGaps,
  operationKeys,
  type OperationStore,
  type PollPurpose,
} from './operation-store.js'
export {
  hmacHex,
  redactInlineImages,
  scrubMessage,
  scrubRaw,
  type PrivacyOptions,
} from './privacy.js'
export {
  bindingKeys,
  createCheckpointLog,
  createOperationBinding,
  readBindingState,
  type BindingState,
  type CheckpointIndex,
  type CheckpointLocation,
  type CheckpointLog,
  type OperationBinding,
} from './adapters/checkpoint-log.js'
export {
  checkpointMissingCommands,
  latestSettledMs,
  pollOperation,
  rebindOperation,
  type CheckpointBinding,
  type CheckpointMismatch,
  type RebindSummary,
  type PollSummary,
  type PollOperationDeps,
  type PollOperationInput,
} from './core/poll-operation.js'
export { pollRange, type PollStats } from './core/poll-range.js'
export { createRedisPublishedSet, publishedSetKeys } from './adapters/published-set.js'
export type { DueReason, EventRevision, OutgoingEvent, PublishedSet } from './core/ports.js'
export {
  dueRange,
  splitRange,
  halve,
  widenForAmbiguity,
  type Range,
  type WindowSettings,
} from './window.js'
export { createPollerMetrics, type PollerMetrics } from './metrics.js'
