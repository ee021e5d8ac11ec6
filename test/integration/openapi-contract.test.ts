/*
 * The contract of schemas/openapi.yaml, against the real services: the poller (`run`, as a
 * process, on the simulator), the sentiment aggregator and the trámite classifier (in this
 * process, on events of their own input topic) and the dashboard in front of them. Every operation
 * of the document is called, for its success and for each error it documents (bad parameters,
 * another method, a Redis that is gone, a service down or hung behind the dashboard); requests the
 * document has no operation for must get its `x-unmatched-request` answer. Each answer's status
 * must be documented for its operation, its content type listed, its body valid (Ajv, JSON Schema
 * 2020-12) against the schema of that operation and status, and its required headers present.
 * At the end, every documented (operation, status) must have been seen.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dereference } from '@readme/openapi-parser'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse } from 'yaml'
import { createDashboard, readDashboardConfig } from '@wolkvox-chat-stream/dashboard'
import { freePort, startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import {
  createLogger,
  createMetricsRegistry,
  type HttpServer,
} from '@wolkvox-chat-stream/observability'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import {
  createTramiteClassifier,
  shippedRulesFile,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { datasetEvents, produceEvents } from '../support/chat-events.js'
import { startAggregator, startPollerRun, type RunningPoller } from '../support/fault-pipeline.js'
import { newServerCode } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const documentFile = fileURLToPath(new URL('../../schemas/openapi.yaml', import.meta.url))
const brokers = inject('kafkaBrokers')
const TOKEN = 'canary-openapi-contract-token-7c3e'
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
type Method = (typeof methods)[number]

/** The services of the document's servers, by their default port. */
type Service = 'dashboard' | 'poller' | 'sentiment' | 'classifier'
const serviceOfPort: Readonly<Record<string, Service>> = {
  '8080': 'dashboard',
  '8081': 'poller',
  '8082': 'sentiment',
  '8083': 'classifier',
}

interface Schema {
  [keyword: string]: unknown
}
interface ResponseObject {
  description: string
  headers?: Record<string, { required?: boolean; schema?: Schema }>
  content?: Record<string, { schema?: Schema }>
}
interface Operation {
  operationId: string
  responses: Record<string, ResponseObject>
}
type PathItem = { servers?: { url: string }[] } & Partial<Record<Method, Operation>>
interface Document {
  servers: { url: string }[]
  paths: Record<string, PathItem>
  'x-unmatched-request': { response: ResponseObject }
}

/** One request and what the test expects of it. */
interface Call {
  service: Service
  method: Uppercase<Method>
  /** Sent exactly as written (percent-encoding and dot segments kept). */
  path: string
  /** The document's path template it belongs to; null for a request the document does not list. */
  template: string | null
  status: number
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
  json: unknown
}

/** `/operations/{server}/agents` as a regular expression of request paths. */
const templatePattern = (template: string): RegExp =>
  new RegExp(
    `^${template
      .split(/(\{[^}]+\})/u)
      .map((part) =>
        part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'),
      )
      .join('')}$`,
    'u',
  )

/** A request sent with node:http, so that its path goes out byte for byte. */
function send(base: string, method: string, path: string): Promise<Omit<Answer, 'json'>> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method, agent: false, headers: { accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** A service that accepts requests and answers only `?huge=1`, with 9 MB. */
async function standIn(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!(req.url ?? '').includes('huge=1')) return // never answers
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(Buffer.alloc(9 * 1024 * 1024, 0x20))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('the HTTP APIs answer as schemas/openapi.yaml says', () => {
  let doc: Document
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true })
  formats.default(ajv)
  const validators = new Map<Schema, ValidateFunction>()
  /** `get /status 200`, … and `unmatched 404`: what the answers covered. */
  const seen = new Set<string>()
  const bases = {} as Record<Service, string>

  const code = newServerCode()
  const events = datasetEvents(400, { server: code })
  const connId = events[0]!.conn_id
  const input = uniqueName('openapi-input')
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'openapi-contract' })
  const admin = kafka.admin()
  const rulesDir = mkdtempSync(join(tmpdir(), 'openapi-rules-'))
  const rulesFile = join(rulesDir, 'tramites.json')
  const shippedRules = readFileSync(shippedRulesFile, 'utf8')
  let redis: RedisServer
  let sim: RunningSimulator
  let poller: RunningPoller | undefined
  let aggregator: ConsumerService | undefined
  let classifier: TramiteClassifier | undefined
  let classifierStarted: Promise<void> | undefined
  const dashboards: HttpServer[] = []
  let hung: Awaited<ReturnType<typeof standIn>> | undefined
  let downBase: string
  let hungBase: string

  const serversOf = (item: PathItem): Service[] =>
    (item.servers ?? doc.servers).map((s) => serviceOfPort[new URL(s.url).port]!)

  const validatorOf = (schema: Schema): ValidateFunction => {
    let validate = validators.get(schema)
    if (validate === undefined) {
      validate = ajv.compile(schema)
      validators.set(schema, validate)
    }
    return validate
  }

  /** Sends `call` to `base` (default: the service's own) and checks the answer on the document. */
  async function check(call: Call, base = bases[call.service]): Promise<Answer> {
    const sent = await send(base, call.method, call.path)
    const where = `${call.method} ${call.path} (${call.service}, ${base})`
    const method = call.method.toLowerCase() as Method
    const path = call.path.split('?', 1)[0]!
    let response: ResponseObject | undefined
    if (call.template === null) {
      const listed = Object.entries(doc.paths).filter(
        ([template, item]) =>
          item[method] !== undefined &&
          serversOf(item).includes(call.service) &&
          templatePattern(template).test(path),
      )
      expect(
        listed.map(([t]) => t),
        `${where} is an operation of the document`,
      ).toEqual([])
      response = doc['x-unmatched-request'].response
      seen.add(`unmatched ${sent.status}`)
    } else {
      const item = doc.paths[call.template]
      expect(item, `the document has no path ${call.template}`).toBeDefined()
      expect(path, `${where} is not an instance of ${call.template}`).toMatch(
        templatePattern(call.template),
      )
      expect(serversOf(item!), `${call.template} on the ${call.service}`).toContain(call.service)
      const operation = item![method]
      expect(operation, `the document has no ${method} ${call.template}`).toBeDefined()
      response = operation!.responses[String(sent.status)]
      expect(
        response,
        `${where} answered ${sent.status}, which ${method} ${call.template} does not document: ${sent.text.slice(0, 300)}`,
      ).toBeDefined()
      seen.add(`${method} ${call.template} ${sent.status}`)
    }
    expect(sent.status, `${where}: ${sent.text.slice(0, 300)}`).toBe(call.status)

    let json: unknown
    const contentType = String(sent.headers['content-type'] ?? '')
    const essence = contentType.split(';', 1)[0]!.trim().toLowerCase()
    const content = Object.entries(response!.content ?? {})
    if (content.length === 0 || call.method === 'HEAD') {
      expect(sent.text, `${where}: a body the document does not describe`).toBe('')
    }
    if (content.length > 0) {
      const media = content.find(([type]) => type.split(';', 1)[0]!.trim() === essence)
      expect(
        media,
        `${where}: content-type "${contentType}" is not one of ${content.map(([t]) => t).join(', ')}`,
      ).toBeDefined()
      let body: unknown = sent.text
      if (call.method === 'HEAD') {
        // No body to check: the content type is what HEAD tells of it.
      } else if (essence === 'application/json') {
        try {
          json = body = JSON.parse(sent.text)
        } catch {
          expect.fail(`${where}: not JSON: ${sent.text.slice(0, 300)}`)
        }
      }
      const schema = media![1].schema
      if (schema !== undefined && call.method !== 'HEAD') {
        const validate = validatorOf(schema)
        if (!validate(body))
          expect.fail(
            `${where} (${sent.status}) does not match the document: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}\n${sent.text.slice(0, 600)}`,
          )
      }
    }
    for (const [name, header] of Object.entries(response!.headers ?? {})) {
      const value = sent.headers[name.toLowerCase()]
      if (header.required) expect(value, `${where}: header ${name}`).toBeDefined()
      if (value !== undefined && header.schema !== undefined) {
        const validate = validatorOf(header.schema)
        if (!validate(value))
          expect.fail(
            `${where}: header ${name} ${String(value)}: ${ajv.errorsText(validate.errors)}`,
          )
      }
    }
    return { ...sent, json }
  }

  const checkAll = async (calls: Call[], base?: string): Promise<void> => {
    for (const call of calls) await check(call, base)
  }

  beforeAll(async () => {
    const written: unknown = parse(readFileSync(documentFile, 'utf8'))
    doc = (await dereference(written as Parameters<typeof dereference>[0])) as unknown as Document
    writeFileSync(rulesFile, shippedRules)
    ;[redis, sim] = await Promise.all([
      startRedisServer(),
      startSimulator({ tokens: [TOKEN], chatsPerHour: 30, seed: 29 }),
      (async () => {
        await admin.connect()
        await createTopic(admin, input, 2)
        await produceEvents(kafka, input, events)
      })(),
    ])
    const stack = { brokers, redisUrl: redis.url }
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 120_000
    poller = await startPollerRun({
      stack,
      sim,
      token: TOKEN,
      startMs,
      extra: { POLL_DAILY_QUOTA: '1000000' },
    })
    bases.poller = `http://127.0.0.1:${poller.env.HTTP_PORT}`

    // The classifier is not ready while it starts: its port answers before it joins its group.
    classifier = createTramiteClassifier({
      name: uniqueName('openapi-tramite'),
      logger: createLogger({ name: 'openapi-tramite', level: 'silent' }),
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: redis.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        CONSUMER_INPUT_TOPIC: input,
        CONSUMER_SESSION_TIMEOUT: '6s',
        CONSUMER_HEARTBEAT_INTERVAL: '1s',
        CLASSIFIER_OUTPUT_TOPIC: uniqueName('openapi-tramite-output'),
        CLASSIFIER_RULES_FILE: rulesFile,
        CLASSIFIER_RULES_WATCH: 'false',
        CLASSIFIER_SWEEP_INTERVAL: '500ms',
      },
    })
    classifierStarted = classifier.start()
    const classifierPort = await waitFor(() => classifier!.httpPort(), {
      what: "the classifier's port",
    })
    bases.classifier = `http://127.0.0.1:${classifierPort}`
    await check({
      service: 'classifier',
      method: 'GET',
      path: '/readyz',
      template: '/readyz',
      status: 503,
    })

    const [started] = await Promise.all([
      startAggregator(stack, {
        outputTopic: uniqueName('openapi-sentiment-output'),
        env: { CONSUMER_INPUT_TOPIC: input },
      }),
      classifierStarted,
    ])
    aggregator = started
    bases.sentiment = `http://127.0.0.1:${aggregator.httpPort()!}`

    const dashboardOf = async (upstreams: Record<string, string>, timeout: string) => {
      const dashboard = createDashboard({
        config: readDashboardConfig({
          HTTP_PORT: '0',
          POLLER_URL: upstreams.poller,
          SENTIMENT_URL: upstreams.sentiment,
          CLASSIFIER_URL: upstreams.classifier,
          DASHBOARD_PROXY_TIMEOUT: timeout,
        }),
        registry: createMetricsRegistry({ defaultLabels: { service: 'dashboard' } }),
        logger: createLogger({ name: 'openapi-dashboard', level: 'silent' }),
      })
      dashboards.push(dashboard)
      return `http://127.0.0.1:${(await dashboard.listen()).port}`
    }
    // Long enough for a read that fails only after the Redis client's reconnections (500).
    bases.dashboard = await dashboardOf(bases, '20s')
    // Behind these two: nothing listening, and a service that never answers.
    const nobody = `http://127.0.0.1:${await freePort()}`
    downBase = await dashboardOf({ poller: nobody, sentiment: nobody, classifier: nobody }, '1s')
    hung = await standIn()
    hungBase = await dashboardOf(
      { poller: hung.url, sentiment: hung.url, classifier: hung.url },
      '300ms',
    )

    // Traffic: a live poll and a backfill on the poller; the events in both consumers.
    const backfill = runPoller(
      [
        'backfill',
        '--server',
        poller.server,
        '--from',
        new Date(startMs - 3_600_000).toISOString(),
        '--to',
        new Date(startMs - 1000).toISOString(),
        '--window',
        '30m',
      ],
      poller.env,
    )
    await waitFor(async () => (await poller!.status()).lastSuccess.live !== undefined, {
      what: 'the first live poll',
      timeoutMs: 30_000,
      intervalMs: 250,
    })
    const done = await backfill
    expect(done.code, done.stderr).toBe(0)
    await waitFor(
      async () => {
        const answer = await fetch(`${bases.sentiment}/operations/${code}/agents`)
        const body = (await answer.json()) as { agents: { totals: { messages: number } }[] }
        const ready = await fetch(`${bases.sentiment}/readyz`)
        return ready.ok && body.agents.reduce((n, a) => n + a.totals.messages, 0) === events.length
      },
      { what: 'the aggregator to count every event', timeoutMs: 30_000, intervalMs: 250 },
    )
    await waitFor(
      async () => {
        const counts = await fetch(`${bases.classifier}/operations/${code}/tramites`)
        const conversation = await fetch(
          `${bases.classifier}/operations/${code}/conversations/${encodeURIComponent(connId)}/tramite`,
        )
        const ready = await fetch(`${bases.classifier}/readyz`)
        const { counts: lines } = (await counts.json()) as { counts: unknown[] }
        return ready.ok && conversation.ok && lines.length > 0
      },
      { what: 'the classifier to count the chats', timeoutMs: 30_000, intervalMs: 250 },
    )
  })

  afterAll(async () => {
    await admin.disconnect().catch(() => undefined)
    await Promise.all(dashboards.map((d) => d.close()))
    hung?.server.closeAllConnections()
    hung?.server.close()
    if (poller) {
      poller.process.kill('SIGTERM')
      // A poller told to stop while its Redis is reconnecting may never exit (see the Redis test).
      const exited = await Promise.race([
        poller.process.exited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000)),
      ])
      if (!exited) poller.process.kill('SIGKILL')
    }
    await classifierStarted?.catch(() => undefined)
    await Promise.all([
      aggregator?.stop().catch(() => undefined),
      classifier?.stop().catch(() => undefined),
    ])
    await sim?.close()
    await redis?.stop()
    rmSync(rulesDir, { recursive: true, force: true })
  })

  const common = (service: Service): Call[] => [
    { service, method: 'GET', path: '/healthz', template: '/healthz', status: 200 },
    { service, method: 'GET', path: '/readyz', template: '/readyz', status: 200 },
    { service, method: 'GET', path: '/metrics', template: '/metrics', status: 200 },
    { service, method: 'GET', path: '/nothing', template: null, status: 404 },
    { service, method: 'POST', path: '/healthz', template: null, status: 404 },
  ]

  it('the poller', async () => {
    const { server } = poller!
    await checkAll([
      ...common('poller'),
      { service: 'poller', method: 'GET', path: '/status', template: '/status', status: 200 },
      {
        service: 'poller',
        method: 'GET',
        path: `/status?server=${server}`,
        template: '/status',
        status: 200,
      },
      {
        service: 'poller',
        method: 'GET',
        path: '/status?server=nope',
        template: '/status',
        status: 404,
      },
      { service: 'poller', method: 'POST', path: '/status', template: null, status: 404 },
      { service: 'poller', method: 'HEAD', path: '/status', template: null, status: 404 },
    ])
    const status = await check({
      service: 'poller',
      method: 'GET',
      path: `/status?server=${server}`,
      template: '/status',
      status: 200,
    })
    // The answer carries what the schemas describe, not only empty defaults.
    const [operation] = (status.json as { operations: Record<string, unknown>[] }).operations
    expect(operation).toMatchObject({ server, backfills: [{ state: 'done' }] })
    expect(operation!.schedule).not.toBeNull()
  })

  it('the sentiment aggregator', async () => {
    const agents = await check({
      service: 'sentiment',
      method: 'GET',
      path: `/operations/${code}/agents`,
      template: '/operations/{server}/agents',
      status: 200,
    })
    const key = encodeURIComponent(
      (agents.json as { agents: { agent_key: string }[] }).agents[0]!.agent_key,
    )
    const agent = `/operations/${code}/agents/${key}`
    const windows = '/operations/{server}/agents/{agentKey}/sentiment'
    const summary = '/operations/{server}/agents/{agentKey}/summary'
    const list = '/operations/{server}/agents'
    const s = (method: Call['method'], path: string, template: string | null, status: number) =>
      ({ service: 'sentiment', method, path, template, status }) as const
    await checkAll([
      ...common('sentiment'),
      s('GET', '/operations/0/agents', list, 200),
      s('GET', '/operations/%E0%A4%A/agents', list, 400),
      s('POST', `/operations/${code}/agents`, list, 405),
      s('GET', `${agent}/sentiment`, windows, 200),
      s(
        'GET',
        `${agent}/sentiment?granularity=day&from=2025-02-10&to=20250212000000`,
        windows,
        200,
      ),
      s(
        'GET',
        `${agent}/sentiment?from=2025-02-10T05:00:00Z&to=2025-02-10T09:00:00-05:00`,
        windows,
        200,
      ),
      s('GET', `${agent}/sentiment?granularity=week`, windows, 400),
      s('GET', `${agent}/sentiment?from=yesterday`, windows, 400),
      s(
        'GET',
        `${agent}/sentiment?from=2025-02-12T00:00:00Z&to=2025-02-10T00:00:00Z`,
        windows,
        400,
      ),
      s('GET', `/operations/${code}/agents/%ZZ/sentiment`, windows, 400),
      s('GET', `/operations/${code}/agents/nobody/sentiment`, windows, 404),
      s('POST', `${agent}/sentiment`, windows, 405),
      s('GET', `${agent}/summary`, summary, 200),
      s('GET', `/operations/${code}/agents/%ZZ/summary`, summary, 400),
      s('GET', `/operations/${code}/agents/nobody/summary`, summary, 404),
      s('POST', `${agent}/summary`, summary, 405),
      s('GET', `${agent}/other`, null, 404),
      s('GET', `/operations/${code}`, null, 404),
    ])
  })

  it('the trámite classifier, its rules and their reload', async () => {
    const counts = '/operations/{server}/tramites'
    const conversation = '/operations/{server}/conversations/{connId}/tramite'
    const c = (method: Call['method'], path: string, template: string | null, status: number) =>
      ({ service: 'classifier', method, path, template, status }) as const
    const chat = `/operations/${code}/conversations/${encodeURIComponent(connId)}/tramite`
    const all = await check(c('GET', `/operations/${code}/tramites`, counts, 200))
    const channel = (all.json as { counts: { channel: string }[] }).counts[0]!.channel
    await checkAll([
      ...common('classifier'),
      c(
        'GET',
        `/operations/${code}/tramites?from=2025-02-10&to=2025-02-11T23:00:00-05:00&channel=${encodeURIComponent(` ${channel.toUpperCase()}`)}`,
        counts,
        200,
      ),
      c('GET', `/operations/${code}/tramites?from=&to=%20&rules_version=never`, counts, 200),
      c('GET', `/operations/${code}/tramites?from=nope`, counts, 400),
      c('GET', `/operations/${code}/tramites?from=2025-02-30`, counts, 400),
      c('GET', `/operations/${code}/tramites?from=2025-02-12&to=2025-02-10`, counts, 400),
      c('GET', '/operations/%ZZ/tramites', counts, 400),
      c('POST', `/operations/${code}/tramites`, counts, 405),
      c('GET', chat, conversation, 200),
      c('GET', `/operations/${code}/conversations/nobody/tramite`, conversation, 404),
      c('GET', `/operations/${code}/conversations/%ZZ/tramite`, conversation, 400),
      c('POST', chat, conversation, 405),
      c('GET', `/operations/${code}/other`, null, 404),
      c('GET', '/rules/other', null, 404),
      c('GET', '/rules', '/rules', 200),
      c('POST', '/rules', '/rules', 405),
      c('GET', '/rules/reload', '/rules/reload', 405),
      // The file holds the rules in force: the same version twice.
      c('POST', '/rules/reload', '/rules/reload', 200),
    ])
    const rules = JSON.parse(shippedRules) as { version: string; tramites: { label: string }[] }
    writeFileSync(rulesFile, JSON.stringify({ ...rules, version: `${rules.version}-contract` }))
    const reloaded = await check(c('POST', '/rules/reload', '/rules/reload', 200))
    expect(reloaded.json).toEqual({
      version: `${rules.version}-contract`,
      previous_version: rules.version,
    })
    // Other rules under the version in force, an invalid file, no file: each refused.
    rules.tramites[0]!.label = 'Otro nombre'
    writeFileSync(rulesFile, JSON.stringify({ ...rules, version: `${rules.version}-contract` }))
    const refused = await check(c('POST', '/rules/reload', '/rules/reload', 400))
    writeFileSync(rulesFile, '{"version": ""}')
    const invalid = await check(c('POST', '/rules/reload', '/rules/reload', 400))
    unlinkSync(rulesFile)
    const unreadable = await check(c('POST', '/rules/reload', '/rules/reload', 400))
    expect(
      [refused, invalid, unreadable].map((a) => (a.json as { error: { code: string } }).error.code),
    ).toEqual([
      'TRAMITE_RULES_VERSION_UNCHANGED',
      'TRAMITE_RULES_INVALID',
      'TRAMITE_RULES_FILE_UNREADABLE',
    ])
    await check(c('GET', '/rules', '/rules', 200))
  })

  it('the dashboard: its page, its proxy, and a service down or hung behind it', async () => {
    const agents = (await (await fetch(`${bases.sentiment}/operations/${code}/agents`)).json()) as {
      agents: { agent_key: string }[]
    }
    const key = encodeURIComponent(agents.agents[0]!.agent_key)
    const chat = encodeURIComponent(connId)
    const d = (method: Call['method'], path: string, template: string | null, status: number) =>
      ({ service: 'dashboard', method, path, template, status }) as const
    const proxied = {
      status: '/api/poller/status',
      agents: '/api/sentiment/operations/{server}/agents',
      windows: '/api/sentiment/operations/{server}/agents/{agentKey}/sentiment',
      summary: '/api/sentiment/operations/{server}/agents/{agentKey}/summary',
      counts: '/api/classifier/operations/{server}/tramites',
      conversation: '/api/classifier/operations/{server}/conversations/{connId}/tramite',
      rules: '/api/classifier/rules',
    }
    const kit = ['healthz', 'readyz', 'metrics'] as const
    const upstreams = ['poller', 'sentiment', 'classifier'] as const
    await checkAll([
      ...common('dashboard'),
      d('GET', '/', '/', 200),
      d('GET', '/index.html', '/index.html', 200),
      d('GET', '/app.js', '/app.js', 200),
      d('GET', '/chart.js', '/chart.js', 200),
      d('GET', '/style.css', '/style.css', 200),
      d('GET', '/config.json', '/config.json', 200),
      d('POST', '/', null, 404),
      d('GET', '/api', '/api', 404),
      d('POST', '/api', '/api', 405),
      ...kit.flatMap((route) => [
        ...upstreams.map((s) => d('GET', `/api/${s}/${route}`, `/api/{service}/${route}`, 200)),
        d('GET', `/api/nobody/${route}`, `/api/{service}/${route}`, 404),
        d('POST', `/api/poller/${route}`, `/api/{service}/${route}`, 405),
      ]),
      d('GET', '/api/poller/status', proxied.status, 200),
      d('GET', `/api/poller/status?server=${poller!.server}`, proxied.status, 200),
      d('GET', '/api/poller/status?server=nope', proxied.status, 404),
      d('POST', '/api/poller/status', proxied.status, 405),
      d('GET', '/api/poller/nothing', null, 404),
      d('GET', `/api/sentiment/operations/${code}/agents`, proxied.agents, 200),
      d('GET', '/api/sentiment/operations/%2e%2e/agents', proxied.agents, 400),
      d('GET', '/api/sentiment/operations/%E0%A4%A/agents', proxied.agents, 400),
      d('POST', `/api/sentiment/operations/${code}/agents`, proxied.agents, 405),
      d(
        'GET',
        `/api/sentiment/operations/${code}/agents/${key}/sentiment?granularity=day`,
        proxied.windows,
        200,
      ),
      d(
        'GET',
        `/api/sentiment/operations/${code}/agents/${key}/sentiment?granularity=week`,
        proxied.windows,
        400,
      ),
      d('GET', `/api/sentiment/operations/${code}/agents/nobody/sentiment`, proxied.windows, 404),
      d('POST', `/api/sentiment/operations/${code}/agents/${key}/sentiment`, proxied.windows, 405),
      d('GET', `/api/sentiment/operations/${code}/agents/${key}/summary`, proxied.summary, 200),
      d('GET', `/api/sentiment/operations/${code}/agents/%2E%2E/summary`, proxied.summary, 400),
      d('GET', `/api/sentiment/operations/${code}/agents/nobody/summary`, proxied.summary, 404),
      d('POST', `/api/sentiment/operations/${code}/agents/${key}/summary`, proxied.summary, 405),
      d('GET', `/api/classifier/operations/${code}/tramites?from=2025-02-10`, proxied.counts, 200),
      d('GET', `/api/classifier/operations/${code}/tramites?from=nope`, proxied.counts, 400),
      d('POST', `/api/classifier/operations/${code}/tramites`, proxied.counts, 405),
      d(
        'GET',
        `/api/classifier/operations/${code}/conversations/${chat}/tramite`,
        proxied.conversation,
        200,
      ),
      d(
        'GET',
        `/api/classifier/operations/${code}/conversations/%ZZ/tramite`,
        proxied.conversation,
        400,
      ),
      d(
        'GET',
        `/api/classifier/operations/${code}/conversations/nobody/tramite`,
        proxied.conversation,
        404,
      ),
      d(
        'POST',
        `/api/classifier/operations/${code}/conversations/${chat}/tramite`,
        proxied.conversation,
        405,
      ),
      d('GET', '/api/classifier/rules', proxied.rules, 200),
      d('POST', '/api/classifier/rules', proxied.rules, 405),
      d('POST', '/api/classifier/rules/reload', '/api/classifier/rules/reload', 405),
    ])

    // Every proxied GET with nothing listening behind it (502), and with a hung service (504).
    const forwarded = (status: number): Call[] => [
      ...kit.flatMap((route) =>
        upstreams.map((s) => d('GET', `/api/${s}/${route}`, `/api/{service}/${route}`, status)),
      ),
      d('GET', '/api/poller/status', proxied.status, status),
      d('GET', `/api/sentiment/operations/${code}/agents`, proxied.agents, status),
      d(
        'GET',
        `/api/sentiment/operations/${code}/agents/${key}/sentiment`,
        proxied.windows,
        status,
      ),
      d('GET', `/api/sentiment/operations/${code}/agents/${key}/summary`, proxied.summary, status),
      d('GET', `/api/classifier/operations/${code}/tramites`, proxied.counts, status),
      d(
        'GET',
        `/api/classifier/operations/${code}/conversations/${chat}/tramite`,
        proxied.conversation,
        status,
      ),
      d('GET', '/api/classifier/rules', proxied.rules, status),
    ]
    await Promise.all([
      ...forwarded(502).map((call) => check(call, downBase)),
      ...forwarded(504).map((call) => check(call, hungBase)),
    ])
    const large = await check(d('GET', '/api/poller/status?huge=1', proxied.status, 502), hungBase)
    expect((large.json as { error: { code: string } }).error.code).toBe(
      'DASHBOARD_UPSTREAM_TOO_LARGE',
    )
  })

  it('with Redis gone: 503 from /readyz, 500 from every route that reads it', async () => {
    await redis.stopProcess()
    try {
      await waitFor(async () => (await send(bases.poller, 'GET', '/readyz')).status === 503, {
        what: 'the poller to see Redis gone',
        timeoutMs: 15_000,
        intervalMs: 100,
      })
      const key = 'nobody'
      const chat = encodeURIComponent(connId)
      // All at once: each read fails after the client's third reconnection, later ones slower.
      const calls: Call[] = [
        { service: 'poller', method: 'GET', path: '/readyz', template: '/readyz', status: 503 },
        { service: 'poller', method: 'GET', path: '/status', template: '/status', status: 500 },
        {
          service: 'sentiment',
          method: 'GET',
          path: `/operations/${code}/agents`,
          template: '/operations/{server}/agents',
          status: 500,
        },
        {
          service: 'sentiment',
          method: 'GET',
          path: `/operations/${code}/agents/${key}/sentiment`,
          template: '/operations/{server}/agents/{agentKey}/sentiment',
          status: 500,
        },
        {
          service: 'sentiment',
          method: 'GET',
          path: `/operations/${code}/agents/${key}/summary`,
          template: '/operations/{server}/agents/{agentKey}/summary',
          status: 500,
        },
        {
          service: 'classifier',
          method: 'GET',
          path: `/operations/${code}/tramites`,
          template: '/operations/{server}/tramites',
          status: 500,
        },
        {
          service: 'classifier',
          method: 'GET',
          path: `/operations/${code}/conversations/${chat}/tramite`,
          template: '/operations/{server}/conversations/{connId}/tramite',
          status: 500,
        },
        ...(
          [
            ['/api/poller/readyz', '/api/{service}/readyz', 503],
            ['/api/poller/status', '/api/poller/status', 500],
            [
              `/api/sentiment/operations/${code}/agents`,
              '/api/sentiment/operations/{server}/agents',
              500,
            ],
            [
              `/api/sentiment/operations/${code}/agents/${key}/sentiment`,
              '/api/sentiment/operations/{server}/agents/{agentKey}/sentiment',
              500,
            ],
            [
              `/api/sentiment/operations/${code}/agents/${key}/summary`,
              '/api/sentiment/operations/{server}/agents/{agentKey}/summary',
              500,
            ],
            [
              `/api/classifier/operations/${code}/tramites`,
              '/api/classifier/operations/{server}/tramites',
              500,
            ],
            [
              `/api/classifier/operations/${code}/conversations/${chat}/tramite`,
              '/api/classifier/operations/{server}/conversations/{connId}/tramite',
              500,
            ],
          ] as const
        ).map(([path, template, status]): Call => ({
          service: 'dashboard',
          method: 'GET',
          path,
          template,
          status,
        })),
      ]
      await Promise.all(calls.map((call) => check(call)))
    } finally {
      await redis.start()
      // Told to stop while its Redis connections still reconnect, `poller run` logged
      // POLL_SHUTDOWN_ABANDONED and then did not exit: the teardown waits until it is ready again.
      await waitFor(async () => (await send(bases.poller, 'GET', '/readyz')).status === 200, {
        what: 'the poller to see Redis back',
        timeoutMs: 30_000,
        intervalMs: 200,
      }).catch(() => undefined)
    }
  })

  it('saw every answer the document describes', () => {
    const documented = new Set<string>(['unmatched 404'])
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of methods) {
        for (const status of Object.keys(item[method]?.responses ?? {}))
          documented.add(`${method} ${template} ${status}`)
      }
    }
    expect([...documented].filter((answer) => !seen.has(answer))).toEqual([])
    expect([...seen].filter((answer) => !documented.has(answer))).toEqual([])
  })
})
