export {
  AppError,
  isAppError,
  isRetriable,
  serializeError,
  type AppErrorOptions,
} from './app-error.js'
export { errorCodes, type ErrorCode } from './codes.js'
export { renderErrorCodeTable } from './table.js'
