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
export { SCHEDULE_PREFIX, SCHEDULE_QUEUE, scheduleKeys } from './adapters/bullmq-schedule.js'
export { readOperationStatus, type OperationStatus, type StuckWindow } from './status.js'
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
