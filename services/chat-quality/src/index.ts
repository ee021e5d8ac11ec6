export * from './timings.js'
export * from './protocol.js'
export * from './fcr.js'
export {
  readFcr,
  tramitePaths,
  type FcrGroup,
  type FcrGrouping,
  type FcrReport,
} from './fcr-queries.js'
export { readQualityConfig, shippedRulesFile, type QualityConfig } from './config.js'
export {
  contributionOf,
  eventFields,
  fingerprint,
  keepFirst,
  keepMessage,
  parseState,
  qualityOf,
  recordOf,
  type Computed,
  type QualityEvent,
  type QualityState,
  type StoredMessage,
} from './conversation.js'
export { createQualityEmitter } from './emitter.js'
export { FIRST_RESPONSE_BUCKETS_MS, bucketOf, quantileBound } from './histogram.js'
export { qualityRoutes } from './http.js'
export {
  createQualityMetrics,
  type QualityMetrics,
  type StandardOutcome,
} from './quality-metrics.js'
export {
  figuresOf,
  paths,
  readAgents,
  readState,
  readAgentFigures,
  readAgentName,
  readTotals,
  type QualityFigures,
  type QualityWindow,
} from './queries.js'
export { recordScript } from './scripts.js'
export {
  SERVICE_NAME,
  createChatQuality,
  recordBatch,
  type ChatQualityOptions,
  type ChatQualityService,
} from './service.js'
