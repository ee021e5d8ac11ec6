export {
  createWolkvoxClient,
  type AttemptEvent,
  type ReportName,
  type ReportRequest,
  type ReportStream,
  type ReportResult,
  type ReportRowTypes,
  type WolkvoxClient,
  type WolkvoxClientLogger,
  type WolkvoxClientOptions,
} from './client.js'
export {
  asText,
  parseChat2Row,
  type ChatMessageRow,
  type ChatRow,
  type InvalidRow,
} from './chat-2.js'
export { isLoopbackHost, reportsManagerUrl, serverCodePattern, validateServer } from './endpoint.js'
export {
  backoffDelayMs,
  defaultRetryOptions,
  parseRetryAfterMs,
  type RetryOptions,
} from './retry.js'
export { createRedactor, sanitizeCause, type Redactor } from './redact.js'
export { formatWallClock, isTimeZone, wallClockToEpochMs } from './wall-clock.js'
