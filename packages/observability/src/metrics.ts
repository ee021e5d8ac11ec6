import { AppError } from '@wolkvox-chat-stream/errors'
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics as collectProcessMetrics,
} from 'prom-client'
import type { CollectFunction, LabelValues } from 'prom-client'

// Re-exported so that no other package needs to import prom-client.
export type { Counter, Gauge, Histogram, LabelValues, Registry as PromRegistry }

/** Every metric of the project is named like this. */
export const metricNamePattern = /^wolkvox_[a-z0-9_]+$/

const prefixPattern = /^wolkvox_[a-z0-9_]*$/
// Snake case, and never the `__` prefix Prometheus reserves for itself.
const labelNamePattern = /^(?!__)[a-z_][a-z0-9_]*$/

/** Options for {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Every metric name must start with it, and the Node process metrics get it. Must itself match
   * `^wolkvox_[a-z0-9_]*$`. Default `wolkvox_`.
   */
  prefix?: string
  /** Labels added to every series, e.g. `{ service: 'collector' }`. */
  defaultLabels?: Readonly<Record<string, string>>
  /** Whether to export the Node process metrics (CPU, memory, event loop, GC). Default true. */
  collectDefaultMetrics?: boolean
}

/** What every metric is declared with. `name` is the full name, prefix included. */
export interface MetricConfig<L extends string> {
  name: string
  help: string
  labelNames?: readonly L[]
}

/** A gauge may compute its value at scrape time with `collect` (`this` is the gauge). */
export interface GaugeConfig<L extends string> extends MetricConfig<L> {
  collect?: CollectFunction<Gauge<L>>
}

/** Histogram buckets are upper bounds in the metric's unit (seconds for `_seconds`). */
export interface HistogramConfig<L extends string> extends MetricConfig<L> {
  /** Strictly increasing. Default prom-client's 0.005 … 10. */
  buckets?: readonly number[]
}

/** One registry per process: the metrics it declares, rendered for `GET /metrics`. */
export interface MetricsRegistry {
  readonly prefix: string
  /** The Content-Type of {@link MetricsRegistry.metrics}'s text. */
  readonly contentType: string
  /** The underlying registry, for libraries that register their own collectors. */
  readonly promRegistry: Registry
  /** @throws AppError `METRICS_NAME_INVALID` (see {@link createMetricsRegistry}). */
  counter<L extends string = never>(config: MetricConfig<L>): Counter<L>
  /** @throws AppError `METRICS_NAME_INVALID` (see {@link createMetricsRegistry}). */
  gauge<L extends string = never>(config: GaugeConfig<L>): Gauge<L>
  /** @throws AppError `METRICS_NAME_INVALID` (see {@link createMetricsRegistry}). */
  histogram<L extends string = never>(config: HistogramConfig<L>): Histogram<L>
  /** Every metric in the Prometheus text format. */
  metrics(): Promise<string>
}

/**
 * Creates a registry of its own (never prom-client's global one, so tests and services don't
 * share state). Declaring a metric throws AppError `METRICS_NAME_INVALID` when its name does not
 * match `^wolkvox_[a-z0-9_]+$` or lacks the prefix, when a label name is not snake case or is one
 * of `defaultLabels` (whose value it would silently replace), or when the name is already
 * declared in this registry.
 *
 * @throws AppError `METRICS_NAME_INVALID` when `prefix` or a default label name is malformed.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  const prefix = options.prefix ?? 'wolkvox_'
  if (!prefixPattern.test(prefix)) {
    throw invalid(`Metric prefix "${prefix}" does not match ${String(prefixPattern)}`, { prefix })
  }
  const registry = new Registry()
  if (options.defaultLabels !== undefined) {
    Object.keys(options.defaultLabels).forEach((label) => checkLabelName(label, '(default)'))
    registry.setDefaultLabels({ ...options.defaultLabels })
  }
  if (options.collectDefaultMetrics ?? true) {
    collectProcessMetrics({ register: registry, prefix })
  }

  const declare = <L extends string>(config: MetricConfig<L>) => {
    if (!metricNamePattern.test(config.name) || !config.name.startsWith(prefix)) {
      throw invalid(
        `Metric name "${config.name}" must match ${String(metricNamePattern)} and start with "${prefix}"`,
        { name: config.name, prefix },
      )
    }
    config.labelNames?.forEach((label) => {
      checkLabelName(label, config.name)
      // prom-client would let the metric's label replace the default one on its series.
      if (options.defaultLabels !== undefined && Object.hasOwn(options.defaultLabels, label)) {
        throw invalid(`Label name "${label}" of metric ${config.name} is a default label`, {
          label,
          metric: config.name,
        })
      }
    })
    if (registry.getSingleMetric(config.name) !== undefined) {
      throw invalid(`Metric "${config.name}" is already registered`, { name: config.name })
    }
    return {
      name: config.name,
      help: config.help,
      labelNames: [...(config.labelNames ?? [])],
      registers: [registry],
    }
  }

  return {
    prefix,
    contentType: registry.contentType,
    promRegistry: registry,
    counter: (config) => new Counter(declare(config)),
    gauge: (config) =>
      new Gauge({
        ...declare(config),
        ...(config.collect === undefined ? {} : { collect: config.collect }),
      }),
    histogram: (config) =>
      new Histogram({
        ...declare(config),
        ...(config.buckets === undefined ? {} : { buckets: [...config.buckets] }),
      }),
    metrics: () => registry.metrics(),
  }
}

function checkLabelName(label: string, metric: string): void {
  if (!labelNamePattern.test(label)) {
    throw invalid(`Label name "${label}" of metric ${metric} is not snake case`, { label, metric })
  }
}

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('METRICS_NAME_INVALID', message, { details })
}

/**
 * Renders several registries as one exposition, for a process that runs more than one component
 * with the same metric names (a service and its companion consumer, each with its own `service`
 * default label). The Prometheus text format allows one `# HELP` and `# TYPE` per family and
 * wants a family's samples together, so the texts are merged family by family: each family once,
 * in order of first appearance, with its samples from every text in the order given.
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, { help?: string; type?: string; samples: string[] }>()
  const familyOf = (name: string) => {
    let family = families.get(name)
    if (family === undefined) families.set(name, (family = { samples: [] }))
    return family
  }
  for (const text of texts) {
    let current: string | undefined
    for (const line of text.split('\n')) {
      if (line === '') continue
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/u.exec(line)
      if (meta !== null) {
        current = meta[2]!
        const family = familyOf(current)
        if (meta[1] === 'HELP') family.help ??= line
        else family.type ??= line
        continue
      }
      if (line.startsWith('#')) continue
      // A sample belongs to the family of the TYPE line before it (histogram samples carry
      // `_bucket`, `_sum` and `_count` suffixes); a sample before any is its own family.
      const name = /^[^{\s]+/u.exec(line)![0]
      familyOf(current ?? name).samples.push(line)
    }
  }
  const out: string[] = []
  for (const family of families.values()) {
    if (family.help !== undefined) out.push(family.help)
    if (family.type !== undefined) out.push(family.type)
    out.push(...family.samples)
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/**
 * A registry whose `metrics()` also renders `others` (see {@link mergeExpositions}); declaring
 * goes to `registry`. For a component that runs inside another's process and HTTP server.
 */
export function withMetricsOf(
  registry: MetricsRegistry,
  others: () => readonly MetricsRegistry[],
): MetricsRegistry {
  return {
    prefix: registry.prefix,
    contentType: registry.contentType,
    promRegistry: registry.promRegistry,
    counter: (config) => registry.counter(config),
    gauge: (config) => registry.gauge(config),
    histogram: (config) => registry.histogram(config),
    metrics: async () =>
      mergeExpositions(await Promise.all([registry, ...others()].map((r) => r.metrics()))),
  }
}
