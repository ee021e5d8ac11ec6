/*
 * Observability for real: every service of the product runs (the simulator, the poller polling
 * it, the consumers reading the topic, the page) while a real Prometheus scrapes them with the
 * jobs and alert rules of deploy/prometheus. Checked: every target is up and serves its key
 * series; the rules evaluate cleanly and fire on a real dead letter; every query of the Grafana
 * dashboard runs; no label carries personal data or grows without bound; the README's metric list
 * is exactly what /metrics serves. Needs prometheus (sudo apt-get install prometheus).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse } from 'yaml'
import {
  createChatQuality,
  shippedRulesFile as qualityRulesFile,
} from '@wolkvox-chat-stream/chat-quality'
import { upstreamNames } from '@wolkvox-chat-stream/dashboard'
import { freePort, startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { errorCodes } from '@wolkvox-chat-stream/errors'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import { leaseLostReasons } from '@wolkvox-chat-stream/token-lock'
import { createTramiteClassifier, shippedRulesFile } from '@wolkvox-chat-stream/tramite-classifier'
import {
  faultKinds,
  startSimulator,
  type RunningSimulator,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { newServerCode, pollerEnv } from '../support/poller-harness.js'
import {
  familyOf,
  parseExposition,
  repoRoot,
  scrapeTargets,
  startPrometheus,
  type Exposition,
  type RunningPrometheus,
} from '../support/prometheus.js'
import { startServiceProcess } from '../support/prometheus-targets.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const kafkaBrokers = inject('kafkaBrokers')
const TOKEN = 'canary-observability-token-7c2f'
const server = newServerCode()
const silent = createLogger({ name: 'observability-test', level: 'silent' })

/** What a service's start gives the ones after it. */
interface Context {
  sim: RunningSimulator
  redisUrl: string
  /** `http://127.0.0.1:port` of a service started earlier, by job. */
  urlOf: (job: string) => string
  /** Metric `service` labels in use (in-process consumers carry a unique name). */
  serviceLabels: Set<string>
}

/** One service of the product, as the test runs it: the job that scrapes it is its key. */
interface ServiceUnderTest {
  job: string
  start: (ctx: Context) => Promise<{ port: number; stop: () => Promise<void> }>
  /** PromQL that must return series of this job once traffic has flowed. */
  keySeries: string[]
}

const services: ServiceUnderTest[] = [
  {
    job: 'wolkvox-simulator',
    // In-process, with the registry its main.ts gives it, so the test can read its ground truth.
    start: ({ sim }) => Promise.resolve({ port: sim.port, stop: () => sim.close() }),
    keySeries: ['wolkvox_simulator_calls_total{status="200"} > 0'],
  },
  {
    job: 'poller',
    start: async ({ sim, redisUrl }) => {
      const port = await freePort()
      const env = pollerEnv({
        server,
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers,
        redisUrl,
        extra: {
          HTTP_PORT: String(port),
          POLL_START: '3h',
          POLL_INTERVAL: '2s',
          POLL_SETTLE_LAG: '3s',
          POLL_LOOKBACK: '10s',
          POLL_SWEEP_INTERVAL: '0s',
          POLL_DAILY_QUOTA: '1000000',
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
        },
      })
      return startServiceProcess({
        script: 'services/poller/src/main.ts',
        args: ['run'],
        env,
        port,
      })
    },
    keySeries: [
      'wolkvox_poller_events_published_total > 0',
      'wolkvox_poller_duplicates_skipped_total',
      'wolkvox_poller_lag_seconds',
      'wolkvox_poller_watermark_timestamp_seconds',
      'wolkvox_poller_interval_seconds',
      'wolkvox_poller_poll_duration_seconds_count > 0',
      'wolkvox_poller_requests_total{outcome="ok"} > 0',
      'wolkvox_poller_requests_total{outcome="WOLKVOX_MAINTENANCE"} > 0',
      'wolkvox_poller_dead_lettered_total > 0',
      'wolkvox_poller_lock_wait_seconds_count > 0',
      'wolkvox_poller_lock_lost_total',
      'wolkvox_poller_quota_used > 0',
      'wolkvox_poller_jobs_total{kind="poll",outcome="ok"} > 0',
      'wolkvox_poller_window_stuck',
      'wolkvox_poller_upstream_maintenance',
      'wolkvox_poller_operation_stopped',
    ],
  },
  {
    job: 'sentiment-aggregator',
    // In-process under a unique consumer group (other test files consume the same topic).
    start: async ({ redisUrl, serviceLabels }) => {
      const name = uniqueName('sentiment-aggregator')
      serviceLabels.add(name)
      const service = createSentimentAggregator({
        name,
        outputTopic: uniqueName('observability-sentiment'),
        logger: silent,
        env: {
          KAFKA_BROKERS: kafkaBrokers,
          REDIS_URL: redisUrl,
          HTTP_PORT: '0',
          LOG_LEVEL: 'silent',
          CONSUMER_SESSION_TIMEOUT: '6s',
          CONSUMER_HEARTBEAT_INTERVAL: '1s',
        },
      })
      await service.start()
      return { port: service.httpPort()!, stop: () => service.stop() }
    },
    keySeries: [
      'wolkvox_consumer_messages_total{outcome="applied"} > 0',
      'wolkvox_consumer_lag_messages',
      'wolkvox_consumer_batch_duration_seconds_count > 0',
      'wolkvox_consumer_rebuilding',
    ],
  },
  {
    job: 'tramite-classifier',
    // In-process under a unique consumer group, like the aggregator.
    start: async ({ redisUrl, serviceLabels }) => {
      const name = uniqueName('tramite-classifier')
      serviceLabels.add(name)
      const service = createTramiteClassifier({
        name,
        logger: silent,
        env: {
          KAFKA_BROKERS: kafkaBrokers,
          REDIS_URL: redisUrl,
          HTTP_PORT: '0',
          LOG_LEVEL: 'silent',
          CONSUMER_SESSION_TIMEOUT: '6s',
          CONSUMER_HEARTBEAT_INTERVAL: '1s',
          CLASSIFIER_OUTPUT_TOPIC: uniqueName('observability-tramite'),
          CLASSIFIER_SWEEP_INTERVAL: '1s',
        },
      })
      await service.start()
      return { port: service.httpPort()!, stop: () => service.stop() }
    },
    keySeries: [
      'wolkvox_consumer_messages_total{outcome="applied"} > 0',
      'wolkvox_consumer_lag_messages',
      'wolkvox_classifier_rules_info',
      'wolkvox_classifier_emitted_total{reason="complete"} > 0',
    ],
  },
  {
    job: 'chat-quality',
    // In-process under a unique consumer group, like the classifier.
    start: async ({ redisUrl, serviceLabels }) => {
      const name = uniqueName('chat-quality')
      // Its companion consumer of classifications shares its /metrics under its own name.
      serviceLabels.add(name).add(`${name}-tramites`)
      const service = createChatQuality({
        name,
        logger: silent,
        env: {
          KAFKA_BROKERS: kafkaBrokers,
          REDIS_URL: redisUrl,
          HTTP_PORT: '0',
          LOG_LEVEL: 'silent',
          CONSUMER_SESSION_TIMEOUT: '6s',
          CONSUMER_HEARTBEAT_INTERVAL: '1s',
          QUALITY_OUTPUT_TOPIC: uniqueName('observability-quality'),
          QUALITY_SWEEP_INTERVAL: '1s',
        },
      })
      await service.start()
      return { port: service.httpPort()!, stop: () => service.stop() }
    },
    keySeries: [
      'wolkvox_consumer_messages_total{outcome="applied"} > 0',
      'wolkvox_consumer_lag_messages',
      'wolkvox_quality_rules_info',
      'wolkvox_quality_emitted_total{reason="complete"} > 0',
      // Its first-response series appear with the first records; the dashboard's increase()
      // over them needs two scrapes.
      'count_over_time(wolkvox_quality_first_response_total[1h]) > 1',
      'count_over_time(wolkvox_quality_response_gaps_total[1h]) > 1',
      'count_over_time(wolkvox_quality_first_response_seconds_bucket[1h]) > 1',
    ],
  },
  {
    job: 'dashboard',
    start: async ({ urlOf }) => {
      const port = await freePort()
      const dashboard = await startServiceProcess({
        script: 'services/dashboard/src/main.ts',
        env: {
          HTTP_PORT: String(port),
          POLLER_URL: urlOf('poller'),
          SENTIMENT_URL: urlOf('sentiment-aggregator'),
          CLASSIFIER_URL: urlOf('tramite-classifier'),
          QUALITY_URL: urlOf('chat-quality'),
          LOG_LEVEL: 'warn',
        },
        port,
      })
      // What the page asks for, through the dashboard's proxy.
      for (const path of [
        '/api/poller/status',
        `/api/sentiment/operations/${server}/agents`,
        '/api/classifier/rules',
        '/api/quality/rules',
      ]) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`)
        expect(response.status, path).toBe(200)
      }
      return dashboard
    },
    keySeries: ['wolkvox_dashboard_proxy_requests_total > 0'],
  },
]

describe('observability: Prometheus scraping every service', () => {
  let redis: RedisServer
  let sim: RunningSimulator
  let prometheus: RunningPrometheus
  const ports = new Map<string, number>()
  const stops: (() => Promise<void>)[] = []
  const serviceLabels = new Set(['poller', 'wolkvox-simulator', 'dashboard'])
  const startMs = Date.now()

  const scrape = async (job: string): Promise<Exposition> => {
    const response = await fetch(`http://127.0.0.1:${ports.get(job)}/metrics`)
    expect(response.status, job).toBe(200)
    return parseExposition(await response.text())
  }
  const has = async (expr: string): Promise<boolean> => (await prometheus.query(expr)).length > 0

  beforeAll(async () => {
    redis = await startRedisServer()
    sim = await startSimulator({
      tokens: [TOKEN],
      chatsPerHour: 60,
      seed: 23,
      metrics: createMetricsRegistry({ defaultLabels: { service: 'wolkvox-simulator' } }),
    })
    const ctx: Context = {
      sim,
      redisUrl: redis.url,
      urlOf: (job) => {
        const port = ports.get(job)
        if (port === undefined) throw new Error(`${job} must start before the services using it`)
        return `http://127.0.0.1:${port}`
      },
      serviceLabels,
    }
    for (const service of services) {
      const started = await service.start(ctx)
      stops.unshift(started.stop)
      ports.set(service.job, started.port)
    }
    prometheus = await startPrometheus({
      targets: Object.fromEntries([...ports].map(([job, port]) => [job, `127.0.0.1:${port}`])),
    })

    // Real traffic: a first window, an upstream maintenance answer, then a row that cannot
    // become an event (dead-lettered), and the consumers reading what was published.
    await waitFor(() => has('wolkvox_poller_events_published_total > 0'), {
      what: 'the first published window in Prometheus',
      timeoutMs: 60_000,
      intervalMs: 500,
    })
    sim.injectFaults({ kind: 'maintenance' })
    await waitFor(() => has('wolkvox_poller_requests_total{outcome="WOLKVOX_MAINTENANCE"}'), {
      what: 'a maintenance answer in Prometheus',
      timeoutMs: 30_000,
      intervalMs: 500,
    })
    sim.injectFaults({
      kind: 'response',
      status: 200,
      body: JSON.stringify({
        code: '200',
        error: null,
        msg: 'records found',
        data: [{ conn_id: 'broken-chat', agent_name: 'x', conversation: 'not an array' }],
      }),
    })
    await waitFor(() => has('wolkvox_poller_dead_lettered_total > 0'), {
      what: 'a dead-lettered row in Prometheus',
      timeoutMs: 30_000,
      intervalMs: 500,
    })
    await waitFor(() => has('wolkvox_poller_requests_total{outcome="ok"} > 1'), {
      what: 'a successful poll after the faults',
      timeoutMs: 30_000,
      intervalMs: 500,
    })
    // Every service has seen traffic when each of its key series is there.
    const missing = async (): Promise<string[]> => {
      const absent: string[] = []
      for (const { job, keySeries } of services) {
        for (const expr of keySeries) {
          const samples = await prometheus.query(expr)
          if (!samples.some((sample) => sample.metric.job === job)) absent.push(`${job}: ${expr}`)
        }
      }
      return absent
    }
    await waitFor(async () => (await missing()).length === 0, {
      what: 'the key series of every service',
      timeoutMs: 60_000,
      intervalMs: 500,
    }).catch(async (error: unknown) => {
      expect(await missing()).toEqual([])
      throw error
    })
  })

  afterAll(async () => {
    await prometheus?.stop()
    for (const stop of stops) await stop().catch(() => undefined)
    await redis?.stop()
  })

  it('scrapes every job of prometheus.yml, each up', async () => {
    expect(services.map((s) => s.job).sort()).toEqual(
      [...scrapeTargets().keys()].filter((job) => job !== 'prometheus').sort(),
    )
    const targets = await waitFor(
      async () => {
        const all = await prometheus.targets()
        return all.length === services.length + 1 && all.every((t) => t.health === 'up')
          ? all
          : undefined
      },
      { what: 'every target up', timeoutMs: 30_000 },
    ).catch(async (error: unknown) => {
      expect(await prometheus.targets()).toEqual([])
      throw error
    })
    expect(targets.map((t) => t.job).sort()).toEqual(
      ['prometheus', ...services.map((s) => s.job)].sort(),
    )
    const up = await prometheus.query('up == 1')
    expect(up.map((s) => s.metric.job).sort()).toEqual(
      ['prometheus', ...services.map((s) => s.job)].sort(),
    )
  })

  it.each(services.map((s) => [s.job, s] as const))(
    '%s serves its key series',
    async (job, service) => {
      for (const expr of [...service.keySeries, 'wolkvox_process_resident_memory_bytes']) {
        const samples = await prometheus.query(expr)
        expect(
          samples.filter((s) => s.metric.job === job),
          expr,
        ).not.toHaveLength(0)
      }
    },
  )

  it('evaluates every alert rule without error, and fires on the dead-lettered row', async () => {
    const file = join(repoRoot, 'deploy', 'prometheus', 'rules', 'wolkvox-chat-stream.rules.yml')
    const written = (
      parse(readFileSync(file, 'utf8')) as { groups: { rules: { alert: string }[] }[] }
    ).groups.flatMap((g) => g.rules.map((r) => r.alert))
    const rules = await waitFor(
      async () => {
        const loaded = (await prometheus.rules()).flatMap((g) => g.rules)
        // Every rule evaluated at least once.
        return loaded.every((r) => r.health === 'ok') ? loaded : undefined
      },
      { what: 'every rule evaluated', timeoutMs: 15_000 },
    ).catch(async (error: unknown) => {
      const bad = (await prometheus.rules())
        .flatMap((g) => g.rules)
        .filter((r) => r.health !== 'ok')
      expect(bad).toEqual([])
      throw error
    })
    expect(rules.map((r) => r.name).sort()).toEqual([...written].sort())

    const firing = await waitFor(
      async () => {
        const alerts = await prometheus.query('ALERTS{alertstate="firing"}')
        return alerts.some((a) => a.metric.alertname === 'WolkvoxPollerDeadLetters') ? alerts : null
      },
      { what: 'WolkvoxPollerDeadLetters to fire', timeoutMs: 30_000, intervalMs: 500 },
    )
    expect(
      firing.find((a) => a.metric.alertname === 'WolkvoxPollerDeadLetters')?.metric,
    ).toMatchObject({ server, severity: 'warning', job: 'poller' })
    const names = new Set(firing.map((a) => a.metric.alertname))
    for (const quiet of ['WolkvoxServiceDown', 'WolkvoxTokenInvalid', 'WolkvoxQuotaExhausted'])
      expect(names.has(quiet), quiet).toBe(false)
  })

  describe('the Grafana dashboard', () => {
    interface Target {
      refId: string
      expr: string
    }
    interface Panel {
      title: string
      type: string
      targets?: Target[]
      panels?: Panel[]
    }
    const dashboard = JSON.parse(
      readFileSync(
        join(repoRoot, 'deploy', 'grafana', 'dashboards', 'wolkvox-chat-stream.json'),
        'utf8',
      ),
    ) as { panels: Panel[]; templating: { list: { name: string; query: string }[] } }
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
    const queries = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ id: `${p.title} / ${t.refId}`, expr: t.expr })),
    )
    /** Queries that may be empty here, and why; every other query must return series. */
    const mayBeEmpty: Record<string, string> = {
      'Leases lost and polls given up (1h) / B': 'one poller never finds the token busy',
      'Dead-lettered rows and splits (1h) / B': 'no response reaches the row cap',
      'Dead letters by code (1h) / A': 'the shared topic gets no poison message here',
      'Retries by code / A': 'Redis and Kafka stay up',
    }
    /** Grafana's variables, as a query over all operations and consumers would see them. */
    const expand = (expr: string): string =>
      expr
        .replaceAll('$__rate_interval', '1m')
        .replaceAll('$server', '.*')
        .replaceAll('$service', '.*')

    it('has queries, and only known ones may be empty', () => {
      expect(queries.length).toBeGreaterThan(20)
      const ids = new Set(queries.map((q) => q.id))
      for (const id of Object.keys(mayBeEmpty)) expect(ids.has(id), id).toBe(true)
      expect(ids.size).toBe(queries.length)
    })

    it('runs every query; each returns series but the few that may be empty', async () => {
      const empty: string[] = []
      for (const { id, expr } of queries) {
        const samples = await prometheus.query(expand(expr)).catch((error: unknown) => {
          throw new Error(`${id}: ${expr}`, { cause: error })
        })
        if (samples.length === 0) empty.push(id)
      }
      expect(empty.filter((id) => !(id in mayBeEmpty))).toEqual([])
    })

    it('finds values for every variable', async () => {
      expect(dashboard.templating.list.length).toBeGreaterThan(0)
      for (const variable of dashboard.templating.list) {
        const match = /^label_values\((\w+), (\w+)\)$/.exec(variable.query)
        expect(match, variable.query).not.toBeNull()
        expect(await prometheus.labelValues(match![2]!, match![1]), variable.name).not.toEqual([])
      }
      expect(await prometheus.labelValues('server', 'wolkvox_poller_interval_seconds')).toContain(
        server,
      )
    })
  })

  it('keeps personal data and tokens out of metric labels, and every label set bounded', async () => {
    // Everything personal the simulator served in the polled range.
    const truth = sim.truth({ from: new Date(startMs - 4 * 3_600_000), to: new Date() })
    const personal = new Set<string>([TOKEN])
    for (const chat of truth.data) {
      const c = chat as unknown as Record<string, unknown>
      for (const field of ['conn_id', 'agent_name', 'customer_name'])
        if (typeof c[field] === 'string') personal.add(c[field])
      for (const m of chat.conversation) {
        for (const field of ['from_name', 'to_name', 'customer_id', 'customer_phone'])
          if (typeof m[field] === 'string') personal.add(m[field])
      }
    }
    expect(truth.chatCount).toBeGreaterThan(50)
    const needles = [...personal].filter((v) => v.length >= 4).map((v) => v.toLowerCase())
    expect(needles.length).toBeGreaterThan(100)

    const codes = new Set(Object.keys(errorCodes))
    const rulesVersions = [shippedRulesFile, qualityRulesFile].map(
      (file) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version,
    )
    const numeric = (v: string): boolean => v === '+Inf' || Number.isFinite(Number(v))
    /** Each label name and the bounded set its values come from. */
    const bounded: Record<string, (value: string) => boolean> = {
      service: (v) => serviceLabels.has(v),
      // The poller labels its configured operations; chat quality the operations it reads from
      // the shared topic, capped (MAX_SERVER_LABELS, then "other").
      server: (v) => v === server || /^\d{1,6}$/u.test(v) || v === 'other',
      outcome: (v) =>
        codes.has(v) ||
        // Poller calls; consumed messages; rule reloads; requests the page's proxy forwarded;
        // quality standards met.
        ['ok', 'applied', 'corrected', 'duplicate', 'dead_lettered'].includes(v) ||
        ['loaded', 'unchanged', 'refused'].includes(v) ||
        ['met', 'missed', 'none'].includes(v) ||
        ['answered', 'unavailable', 'timeout', 'too_large'].includes(v),
      code: (v) => codes.has(v),
      reason: (v) =>
        codes.has(v) ||
        (leaseLostReasons as readonly string[]).includes(v) ||
        // Consumer rebuilds (Redis lost the state, or it came from another log); full reads of
        // the poller's checkpoint topic; classifications and quality records emitted.
        ['epoch_missing', 'state_missing', 'stale_state'].includes(v) ||
        ['other_cluster', 'other_topic', 'log_truncated', 'log_replaced'].includes(v) ||
        ['startup', 'suspicious', 'recovery'].includes(v) ||
        ['complete', 'idle', 'content', 'version', 'resend'].includes(v),
      purpose: (v) => ['live', 'sweep', 'backfill', 'once'].includes(v),
      // The five values the sentiment aggregator scores a text with.
      sentiment: (v) =>
        ['very_negative', 'negative', 'neutral', 'positive', 'very_positive'].includes(v),
      // Job kinds of the poller; garbage-collection kinds of Node.
      kind: (v) => ['poll', 'sweep', 'major', 'minor', 'incremental', 'weakcb'].includes(v),
      partition: (v) => /^\d{1,3}$/.test(v),
      upstream: (v) => (upstreamNames as readonly string[]).includes(v),
      le: numeric,
      quantile: numeric,
      status: (v) => v === 'none' || /^\d{3}$/.test(v),
      fault: (v) => v === 'none' || (faultKinds as readonly string[]).includes(v),
      // Node's own: heap spaces, resource types, its version; and the rules' version.
      space: (v) => /^[a-z_]+$/.test(v),
      type: (v) => /^[A-Za-z]+$/.test(v),
      // Node's version, and the versions of the trámite and protocol rules in force.
      version: (v) => v === process.version || rulesVersions.includes(v),
      major: (v) => v === String(process.versions.node.split('.')[0]),
      minor: (v) => v === String(process.versions.node.split('.')[1]),
      patch: (v) => v === String(process.versions.node.split('.')[2]),
    }

    for (const { job } of services) {
      const { series, types } = await scrape(job)
      expect(series.length, job).toBeGreaterThan(0)
      const valuesOf = new Map<string, Set<string>>()
      for (const { name, labels } of series) {
        for (const [label, value] of Object.entries(labels)) {
          const where = `${job}: ${name}{${label}="${value}"}`
          expect(label, where).not.toMatch(/agent|customer|conn|phone|token|chat|message|name/i)
          expect(
            bounded[label],
            `${where}: no bounded value set known for this label`,
          ).toBeDefined()
          expect(bounded[label]!(value), where).toBe(true)
          const lower = value.toLowerCase()
          expect(
            needles.find((n) => lower.includes(n)),
            where,
          ).toBeUndefined()
          const key = `${familyOf(name, types)} ${label}`
          valuesOf.set(key, (valuesOf.get(key) ?? new Set()).add(value))
        }
      }
      for (const [key, values] of valuesOf) expect(values.size, `${job}: ${key}`).toBeLessThan(40)
    }
  })

  it('serves exactly the metrics the README lists, with their types and labels', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    const section = /\n## Observability\n([\s\S]*?)\n## /.exec(readme)?.[1]
    expect(section, 'README section "## Observability"').toBeDefined()
    const rows = section!
      .split('\n')
      .filter((line) => /^\| `wolkvox_/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .map(([, name, type, labels]) => ({
        names: [...name!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
        type: type!,
        labels: [...labels!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort(),
      }))
    const listed = new Map(
      rows.flatMap((r) => r.names.filter((n) => !n.endsWith('*')).map((n) => [n, r] as const)),
    )
    const prefixes = rows.flatMap((r) =>
      r.names.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1)),
    )
    expect(listed.size).toBeGreaterThan(30)

    const served = new Map<string, { type: string; labels: Set<string> | undefined }>()
    for (const { job } of services) {
      const { types, series } = await scrape(job)
      for (const [name, type] of types) {
        const labelSets = series
          .filter((s) => familyOf(s.name, types) === name)
          .map((s) => Object.keys(s.labels).filter((l) => !['service', 'le'].includes(l)))
        served.set(name, {
          type,
          labels: labelSets.length === 0 ? served.get(name)?.labels : new Set(labelSets.flat()),
        })
      }
    }
    for (const prefix of prefixes)
      expect(
        [...served.keys()].some((n) => n.startsWith(prefix)),
        `${prefix}* is served`,
      ).toBe(true)
    const own = [...served.keys()].filter((n) => !prefixes.some((p) => n.startsWith(p)))
    expect(own.sort(), 'served and not in the README, or listed and not served').toEqual(
      [...listed.keys()].sort(),
    )
    for (const name of own) {
      const row = listed.get(name)!
      const { type, labels } = served.get(name)!
      expect(row.type, `${name} type`).toBe(type)
      if (labels !== undefined) expect(row.labels, `${name} labels`).toEqual([...labels].sort())
    }
  })
})
