export {
  AppError,
  isAppError,
  isRetriable,
  serializeError,
  type AppErrorOptions,
} from './app-error.js'
export { errorCodes, type ErrorCode } from './codes.js'
export { renderErrorCodeTable } from './table.js'
export {
  deeplyNested,
  describeInput,
  expectOnlyAppErrors,
  FUZZ_TIME_LIMIT_MS,
  hostileStrings,
  thrownAppError,
  withinMs,
  type ParseOutcome,
} from './fuzz-helpers.js'
