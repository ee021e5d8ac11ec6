export {
  createLogger,
  isLogThreshold,
  logLevels,
  type LogFields,
  type LogLevel,
  type LogStream,
  type LogThreshold,
  type Logger,
  type LoggerOptions,
} from './logger.js'
export {
  createMetricsRegistry,
  metricNamePattern,
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
