export { readPollerConfig, type OperationConfig, type PollerConfig } from './config.js'
export { createPollerRuntime, type PollerRuntime } from './runtime.js'
export {
  pollOperation,
  type PollSummary,
  type PollOperationDeps,
  type PollOperationInput,
} from './core/poll-operation.js'
export { pollRange, type PollStats } from './core/poll-range.js'
export {
  dueRange,
  splitRange,
  halve,
  widenForAmbiguity,
  type Range,
  type WindowSettings,
} from './window.js'
export { createPollerMetrics, type PollerMetrics } from './metrics.js'
