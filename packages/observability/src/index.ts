export {
  createLogger,
  formatHumanLine,
  isLogThreshold,
  logFormatFromEnv,
  logFormats,
  logLevels,
  readLogFormat,
  type LogFields,
  type LogFormat,
  type LogRecord,
  type LogLevel,
  type LogStream,
  type LogThreshold,
  type Logger,
  type LoggerOptions,
} from './logger.js'
export {
  createMetricsRegistry,
  mergeExpositions,
  metricNamePattern,
  withMetricsOf,
  type Counter,
  type Gauge,
  type GaugeConfig,
  type Histogram,
  type HistogramConfig,
  type LabelValues,
  type MetricConfig,
  type MetricsRegistry,
  type MetricsRegistryOptions,
  type PromRegistry,
} from './metrics.js'
export {
  createHttpServer,
  type HttpServer,
  type HttpServerOptions,
  type Readiness,
  type ReadinessCheck,
  type RouteHandler,
} from './http-server.js'
export { defaultHttpLimits, type HttpLimits } from './http-server.js'
export { createTokenAuth, type AuthVerdict, type TokenAuth } from './http-auth.js'
export { createRateLimiter, type RateLimiter } from './http-rate-limit.js'
export { HttpError, sendError, sendJson } from './http-respond.js'
export {
  createRouter,
  InputError,
  pathSegments,
  route,
  type Parser,
  type Route,
  type RouteAnswer,
  type RouteInput,
  type RouterOptions,
} from './http-router.js'
export { cursorParser, encodeCursor, limitParser, pageOf } from './http-paging.js'
export {
  createStopSignals,
  REPEATED_SIGNAL_WINDOW_MS,
  type StopSignalKind,
} from './stop-signals.js'
export {
  agentKeyParser,
  connIdParser,
  oneOfParser,
  queryTimeParser,
  serverParser,
} from './http-params.js'
