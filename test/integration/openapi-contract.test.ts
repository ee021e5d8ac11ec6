/*
 * The contract of schemas/openapi.yaml, against the real services: the poller (`run`, as a
 * process, on the simulator), the sentiment aggregator, the trámite classifier and the chat
 * quality service (in this process, on events of their own input topic) and the dashboard in
 * front of them, every one with
 * HTTP_AUTH_TOKEN_FILE (the dashboard's proxy with DASHBOARD_UPSTREAM_TOKEN_FILE). Every operation
 * of the document is called, for its success and for each error it documents (bad parameters,
 * paging to the last page, another method, a cross-site POST, a Redis that is gone, a service down
 * or hung behind the dashboard); every secured operation is also called without a token (401),
 * and each server once with a wrong one. Requests the document has no operation for must get its
 * `x-unmatched-request` answers, and the refusals of every server (a NUL, a long path, a body too
 * large, too many requests, headers too large, a request that is not HTTP or comes too slowly) its
 * `x-server-refusals` answers. Each answer's status must be documented, its content type listed,
 * its body valid (Ajv, JSON Schema 2020-12) against the schema of that operation and status, and
 * its required headers present and valid. At the end, every documented (operation, status) must
 * have been seen, and neither the Wolkvox token nor the HTTP token may be in an answer or a log.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
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
import {
  createChatQuality,
  shippedRulesFile as shippedProtocolFile,
  type ChatQualityService,
} from '@wolkvox-chat-stream/chat-quality'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import {
  createTramiteClassifier,
  shippedRulesFile,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { datasetEvents, produceEvents } from '../support/chat-events.js'
import {
  loggedLines,
  startAggregator,
  startPollerRun,
  type RunningPoller,
} from '../support/fault-pipeline.js'
import { newServerCode } from '../support/poller-harness.js'
import { runPoller, type StatusDocument } from '../support/poller-service-harness.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const documentFile = fileURLToPath(new URL('../../schemas/openapi.yaml', import.meta.url))
const brokers = inject('kafkaBrokers')
/** The Wolkvox token of the simulator and the poller: never in an answer or a log. */
const TOKEN = 'canary-openapi-contract-token-7c3e'
/** The HTTP token of every service (HTTP_AUTH_TOKEN_FILE): never in an answer or a log either. */
const HTTP_TOKEN = 'canary-openapi-http-token-51d0c3e8'
/** A token of the right shape that no file holds. */
const WRONG_TOKEN = 'openapi-contract-wrong-token-0b7e'
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
type Method = (typeof methods)[number]
/** The template of a call answered by a refusal of the server (`x-server-refusals`). */
const REFUSAL = 'x-server-refusals'

/** The services of the document's servers, by their default port. */
type Service = 'dashboard' | 'poller' | 'sentiment' | 'classifier' | 'quality'
const serviceOfPort: Readonly<Record<string, Service>> = {
  '8080': 'dashboard',
  '8081': 'poller',
  '8082': 'sentiment',
  '8083': 'classifier',
  '8084': 'quality',
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
  security?: Record<string, string[]>[]
  responses: Record<string, ResponseObject>
}
type PathItem = { servers?: { url: string }[] } & Partial<Record<Method, Operation>>
interface Document {
  servers: { url: string }[]
  paths: Record<string, PathItem>
  'x-unmatched-request': { responses: Record<string, ResponseObject> }
  'x-server-refusals': { responses: Record<string, ResponseObject> }
}

/** The credentials a call is sent with; `bearer` (the right token) unless told. */
type Credentials = 'bearer' | 'none' | 'wrong' | 'basic' | 'basic-wrong'

/** One request and what the test expects of it. */
interface Call {
  service: Service
  method: Uppercase<Method>
  /** Sent exactly as written (percent-encoding and dot segments kept). */
  path: string
  /**
   * The document's path template it belongs to; null for a request the document does not list,
   * {@link REFUSAL} for one a server refuses before any operation.
   */
  template: string | null
  status: number
  credentials?: Credentials
  headers?: Record<string, string>
  body?: string
  /** Sent as it is on a socket of its own instead (what Node cannot read as a request). */
  raw?: string
  /** The error code the answer must carry. */
  code?: string
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
  json: unknown
}

const authorization = (credentials: Credentials): Record<string, string> => {
  const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`
  switch (credentials) {
    case 'bearer':
      return { authorization: `Bearer ${HTTP_TOKEN}` }
    case 'wrong':
      return { authorization: `Bearer ${WRONG_TOKEN}` }
    case 'basic':
      return { authorization: basic(HTTP_TOKEN) }
    case 'basic-wrong':
      return { authorization: basic(WRONG_TOKEN) }
    case 'none':
      return {}
  }
}
/** For the requests the test makes outside the contract (waiting for the services). */
const withToken = { headers: authorization('bearer') }

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
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Omit<Answer, 'json'>> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        path,
        method,
        agent: false,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
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
    req.end(body)
  })
}

/** Writes `text` on a new connection and reads the answer until the server closes it. */
function sendRaw(base: string, text: string): Promise<Omit<Answer, 'json'>> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(Number(port), hostname, () => socket.write(text))
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    // The server may reset a connection whose request it did not read to the end.
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8')
      const end = all.indexOf('\r\n\r\n')
      if (end === -1) {
        reject(new Error(`no answer to ${JSON.stringify(text.slice(0, 40))}: ${all}`))
        return
      }
      const [statusLine, ...lines] = all.slice(0, end).split('\r\n')
      const headers: IncomingHttpHeaders = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, text: all.slice(end + 4) })
    })
  })
}

/** A service that accepts requests and answers only `?huge=1`, with 9 MB. */
async function standIn(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!(req.url ?? '').includes('huge=1')) return // never answers
    // Its length declared: the proxy refuses it before reading, well within the short timeout
    // this stand-in's dashboard has for the hung case (reading 9 MB could outlast it on a busy CI).
    const body = Buffer.alloc(9 * 1024 * 1024, 0x20)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('the HTTP APIs answer as schemas/openapi.yaml says', () => {
  let doc: Document
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true })
  formats.default(ajv)
  const validators = new Map<Schema, ValidateFunction>()
  /** `get /status 200`, …, `unmatched 404` and `refusal 429`: what the answers covered. */
  const seen = new Set<string>()
  /** The (service, operation) pairs already called without a token. */
  const probed = new Set<string>()
  const bases = {} as Record<Service, string>

  const code = newServerCode()
  const events = datasetEvents(400, { server: code })
  const connId = events[0]!.conn_id
  const input = uniqueName('openapi-input')
  /** The classifier's output, which the chat quality service's FCR reads its trámites from. */
  const tramiteTopic = uniqueName('openapi-tramite-output')
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'openapi-contract' })
  const admin = kafka.admin()
  const rulesDir = mkdtempSync(join(tmpdir(), 'openapi-rules-'))
  const rulesFile = join(rulesDir, 'tramites.json')
  const protocolFile = join(rulesDir, 'protocol.json')
  const tokenFile = join(rulesDir, 'http-tokens')
  const shippedRules = readFileSync(shippedRulesFile, 'utf8')
  const shippedProtocol = readFileSync(shippedProtocolFile, 'utf8')
  /** The chats of the events whose last message is among them: the ones written (complete). */
  const completeChats = new Set(
    events.filter((e) => e.position === e.conversation_length - 1).map((e) => e.conn_id),
  )
  /** Every service with the token file; no rate limit but on the one server that shows it. */
  const security = { HTTP_AUTH_TOKEN_FILE: tokenFile, HTTP_RATE_LIMIT: '0' }
  /**
   * What the classifier, the chat quality service and the dashboards logged (the aggregator's and
   * the poller's: their own).
   */
  const logs: string[] = []
  const logStream = { write: (line: string) => logs.push(line) }
  let redis: RedisServer
  let sim: RunningSimulator
  let poller: RunningPoller | undefined
  let aggregator: ConsumerService | undefined
  let classifier: TramiteClassifier | undefined
  let classifierStarted: Promise<void> | undefined
  let quality: ChatQualityService | undefined
  let qualityStarted: Promise<void> | undefined
  const dashboards: HttpServer[] = []
  let hung: Awaited<ReturnType<typeof standIn>> | undefined
  let downBase: string
  let hungBase: string
  /** A dashboard with HTTP_RATE_LIMIT=1 and HTTP_METRICS_PUBLIC=true. */
  let limitedBase: string

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

  /** The document's method of a request: HEAD is answered as GET wherever GET is. */
  const methodOf = (call: Call): Method =>
    call.method === 'HEAD' ? 'get' : (call.method.toLowerCase() as Method)

  /** Checks one answer on the document: status, content type, body, headers, no token. */
  function verify(call: Call, sent: Omit<Answer, 'json'>, base: string): Answer {
    const where = `${call.method} ${call.path.slice(0, 120)} (${call.service}, ${base})`
    const method = methodOf(call)
    const path = call.path.split('?', 1)[0]!
    let response: ResponseObject | undefined
    if (call.template === REFUSAL) {
      response = doc['x-server-refusals'].responses[String(sent.status)]
      expect(response, `${where}: ${sent.status} is not a documented refusal`).toBeDefined()
      seen.add(`refusal ${sent.status}`)
    } else if (call.template === null) {
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
      response = doc['x-unmatched-request'].responses[String(sent.status)]
      expect(
        response,
        `${where}: ${sent.status} is not documented for an unmatched request`,
      ).toBeDefined()
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
    const everything = `${JSON.stringify(sent.headers)}${sent.text}`
    expect(everything, `${where}: the Wolkvox token`).not.toContain(TOKEN)
    expect(everything, `${where}: the HTTP token`).not.toContain(HTTP_TOKEN)

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
    if (call.code !== undefined)
      expect((json as { error?: { code?: string } }).error?.code, where).toBe(call.code)
    if (sent.status === 401) {
      // The challenge says why: a wrong token, or none; the dashboard also asks for a password.
      const challenge = String(sent.headers['www-authenticate'])
      const wrong = call.credentials === 'wrong' || call.credentials === 'basic-wrong'
      expect(challenge.includes('error="invalid_token"'), `${where}: ${challenge}`).toBe(wrong)
      expect(challenge.includes('Basic realm='), `${where}: ${challenge}`).toBe(
        call.service === 'dashboard',
      )
    }
    return { ...sent, json }
  }

  /** Whether the document (or, for an unmatched request, its path) asks for a token. */
  const secured = (call: Call): boolean => {
    if (call.template === REFUSAL) return false
    const path = call.path.split('?', 1)[0]!
    if (call.template === null) return path !== '/healthz' && path !== '/readyz'
    const security = doc.paths[call.template]?.[methodOf(call)]?.security ?? []
    return security.some((requirement) => Object.keys(requirement).length > 0)
  }

  /**
   * Sends `call` to `base` (default: the service's own) and checks the answer on the document.
   * The first time an operation of a service is called with the token (as a bearer token or a
   * password), it is also called without one: a 401, before the operation runs.
   */
  async function check(call: Call, base = bases[call.service]): Promise<Answer> {
    const credentials = call.credentials ?? 'bearer'
    const sent =
      call.raw === undefined
        ? await send(
            base,
            call.method,
            call.path,
            { ...authorization(credentials), ...call.headers },
            call.body,
          )
        : await sendRaw(base, call.raw)
    const answer = verify(call, sent, base)
    const key = `${call.service} ${methodOf(call)} ${call.template ?? 'unmatched'}`
    const withCredentials = credentials === 'bearer' || credentials === 'basic'
    if (withCredentials && call.raw === undefined && secured(call) && !probed.has(key)) {
      probed.add(key)
      await check({ ...call, credentials: 'none', status: 401, code: 'HTTP_UNAUTHORIZED' }, base)
    }
    return answer
  }

  const checkAll = async (calls: Call[], base?: string): Promise<void> => {
    for (const call of calls) await check(call, base)
  }

  /** Calls `call` with `limit=1`, following `next_cursor` until null; the items of every page. */
  async function everyPage(
    call: Call,
    items: string,
  ): Promise<{ items: unknown[]; pages: Record<string, unknown>[] }> {
    const pages: Record<string, unknown>[] = []
    let cursor: string | null = null
    do {
      const path = `${call.path}${call.path.includes('?') ? '&' : '?'}limit=1${
        cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      }`
      const page = (await check({ ...call, path })).json as Record<string, unknown>
      expect((page[items] as unknown[]).length).toBe(1)
      pages.push(page)
      cursor = page.next_cursor as string | null
      expect(pages.length, `${call.path}: pages`).toBeLessThan(500)
    } while (cursor !== null)
    return { items: pages.flatMap((page) => page[items] as unknown[]), pages }
  }

  const statusOf = async (): Promise<StatusDocument['operations'][number]> =>
    ((await (await fetch(`${bases.poller}/status`, withToken)).json()) as StatusDocument)
      .operations[0]!

  beforeAll(async () => {
    const written: unknown = parse(readFileSync(documentFile, 'utf8'))
    doc = (await dereference(written as Parameters<typeof dereference>[0])) as unknown as Document
    writeFileSync(rulesFile, shippedRules)
    writeFileSync(protocolFile, shippedProtocol)
    writeFileSync(tokenFile, `# the contract test's services\n${HTTP_TOKEN}\n`)
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
      extra: { POLL_DAILY_QUOTA: '1000000', LOG_LEVEL: 'info', ...security },
    })
    bases.poller = `http://127.0.0.1:${poller.env.HTTP_PORT}`

    // The classifier is not ready while it starts: its port answers before it joins its group.
    classifier = createTramiteClassifier({
      name: uniqueName('openapi-tramite'),
      logger: createLogger({ name: 'openapi-tramite', level: 'info', stream: logStream }),
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: redis.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        CONSUMER_INPUT_TOPIC: input,
        CONSUMER_SESSION_TIMEOUT: '6s',
        CONSUMER_HEARTBEAT_INTERVAL: '1s',
        CLASSIFIER_OUTPUT_TOPIC: tramiteTopic,
        CLASSIFIER_RULES_FILE: rulesFile,
        CLASSIFIER_RULES_WATCH: 'false',
        CLASSIFIER_SWEEP_INTERVAL: '500ms',
        ...security,
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

    // The chat quality service, the same way.
    quality = createChatQuality({
      name: uniqueName('openapi-quality'),
      logger: createLogger({ name: 'openapi-quality', level: 'info', stream: logStream }),
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: redis.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        CONSUMER_INPUT_TOPIC: input,
        CONSUMER_SESSION_TIMEOUT: '6s',
        CONSUMER_HEARTBEAT_INTERVAL: '1s',
        QUALITY_OUTPUT_TOPIC: uniqueName('openapi-quality-output'),
        QUALITY_TRAMITE_TOPIC: tramiteTopic,
        QUALITY_RULES_FILE: protocolFile,
        QUALITY_RULES_WATCH: 'false',
        QUALITY_SWEEP_INTERVAL: '500ms',
        ...security,
      },
    })
    qualityStarted = quality.start()
    const qualityPort = await waitFor(() => quality!.httpPort(), {
      what: "the quality service's port",
    })
    bases.quality = `http://127.0.0.1:${qualityPort}`
    await check({
      service: 'quality',
      method: 'GET',
      path: '/readyz',
      template: '/readyz',
      status: 503,
    })

    const [started] = await Promise.all([
      startAggregator(stack, {
        outputTopic: uniqueName('openapi-sentiment-output'),
        env: { CONSUMER_INPUT_TOPIC: input, ...security },
      }),
      classifierStarted,
      qualityStarted,
    ])
    aggregator = started
    bases.sentiment = `http://127.0.0.1:${aggregator.httpPort()!}`

    const dashboardOf = async (
      upstreams: Record<string, string>,
      timeout: string,
      env: Record<string, string> = {},
    ) => {
      const dashboard = createDashboard({
        config: readDashboardConfig({
          HTTP_PORT: '0',
          POLLER_URL: upstreams.poller,
          SENTIMENT_URL: upstreams.sentiment,
          CLASSIFIER_URL: upstreams.classifier,
          QUALITY_URL: upstreams.quality,
          DASHBOARD_PROXY_TIMEOUT: timeout,
          DASHBOARD_UPSTREAM_TOKEN_FILE: tokenFile,
          ...security,
          ...env,
        }),
        registry: createMetricsRegistry({ defaultLabels: { service: 'dashboard' } }),
        logger: createLogger({ name: 'openapi-dashboard', level: 'info', stream: logStream }),
      })
      dashboards.push(dashboard)
      return `http://127.0.0.1:${(await dashboard.listen()).port}`
    }
    // Long enough for a read that fails only after the Redis client's reconnections (500).
    bases.dashboard = await dashboardOf(bases, '20s')
    // Behind these two: nothing listening, and a service that never answers.
    const nobody = `http://127.0.0.1:${await freePort()}`
    downBase = await dashboardOf(
      { poller: nobody, sentiment: nobody, classifier: nobody, quality: nobody },
      '1s',
    )
    hung = await standIn()
    hungBase = await dashboardOf(
      { poller: hung.url, sentiment: hung.url, classifier: hung.url, quality: hung.url },
      '300ms',
    )
    limitedBase = await dashboardOf(bases, '5s', {
      HTTP_RATE_LIMIT: '1',
      HTTP_METRICS_PUBLIC: 'true',
    })

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
    await waitFor(async () => (await statusOf()).lastSuccess.live !== undefined, {
      what: 'the first live poll',
      timeoutMs: 30_000,
      intervalMs: 250,
    })
    const done = await backfill
    expect(done.code, done.stderr).toBe(0)
    await waitFor(
      async () => {
        const answer = await fetch(`${bases.sentiment}/operations/${code}/agents`, withToken)
        const body = (await answer.json()) as { agents: { totals: { messages: number } }[] }
        const ready = await fetch(`${bases.sentiment}/readyz`)
        return ready.ok && body.agents.reduce((n, a) => n + a.totals.messages, 0) === events.length
      },
      { what: 'the aggregator to count every event', timeoutMs: 30_000, intervalMs: 250 },
    )
    await waitFor(
      async () => {
        const counts = await fetch(`${bases.classifier}/operations/${code}/tramites`, withToken)
        const conversation = await fetch(
          `${bases.classifier}/operations/${code}/conversations/${encodeURIComponent(connId)}/tramite`,
          withToken,
        )
        const ready = await fetch(`${bases.classifier}/readyz`)
        const { counts: lines } = (await counts.json()) as { counts: unknown[] }
        return ready.ok && conversation.ok && lines.length > 0
      },
      { what: 'the classifier to count the chats', timeoutMs: 30_000, intervalMs: 250 },
    )
    await waitFor(
      async () => {
        const answer = await fetch(`${bases.quality}/operations/${code}/quality/agents`, withToken)
        const conversation = await fetch(
          `${bases.quality}/operations/${code}/quality/conversations/${encodeURIComponent(connId)}`,
          withToken,
        )
        const ready = await fetch(`${bases.quality}/readyz`)
        const { agents } = (await answer.json()) as {
          agents: { totals: { conversations: number } }[]
        }
        const counted = agents.reduce((n, a) => n + a.totals.conversations, 0)
        return ready.ok && conversation.ok && counted === completeChats.size
      },
      {
        what: 'the quality service to count every complete chat',
        timeoutMs: 30_000,
        intervalMs: 250,
      },
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
    await qualityStarted?.catch(() => undefined)
    await Promise.all([
      aggregator?.stop().catch(() => undefined),
      classifier?.stop().catch(() => undefined),
      quality?.stop().catch(() => undefined),
    ])
    await sim?.close()
    await redis?.stop()
    rmSync(rulesDir, { recursive: true, force: true })
  })

  /** What every server answers alike, a wrong token included. */
  const common = (service: Service): Call[] => [
    { service, method: 'GET', path: '/healthz', template: '/healthz', status: 200 },
    { service, method: 'HEAD', path: '/healthz', template: '/healthz', status: 200 },
    {
      service,
      method: 'GET',
      path: '/readyz',
      template: '/readyz',
      status: 200,
      credentials: 'none',
    },
    { service, method: 'GET', path: '/metrics', template: '/metrics', status: 200 },
    {
      service,
      method: 'GET',
      path: '/metrics',
      template: '/metrics',
      status: 401,
      credentials: 'wrong',
      code: 'HTTP_UNAUTHORIZED',
    },
    { service, method: 'GET', path: '/nothing', template: null, status: 404 },
    { service, method: 'HEAD', path: '/nothing', template: null, status: 404 },
    // The probes' paths need no token, whatever the method: no route, so a 404 either way.
    { service, method: 'POST', path: '/healthz', template: null, status: 404 },
    {
      service,
      method: 'POST',
      path: '/healthz',
      template: null,
      status: 404,
      credentials: 'none',
    },
  ]

  it('the poller', async () => {
    const { server } = poller!
    const p = (
      method: Call['method'],
      path: string,
      template: string | null,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service: 'poller', method, path, template, status, ...more })
    await checkAll([
      ...common('poller'),
      p('GET', '/status', '/status', 200),
      p('HEAD', '/status', '/status', 200),
      p('GET', `/status?server=${server}`, '/status', 200),
      p('GET', '/status?server=', '/status', 200),
      p('GET', '/status?server=0', '/status', 404, { code: 'POLL_OPERATION_NOT_FOUND' }),
      p('GET', '/status?server=nope', '/status', 400, { code: 'POLL_STATUS_QUERY_INVALID' }),
      p('GET', '/status?server=1234567', '/status', 400),
      p('GET', `/status?server=${server}&server=${server}`, '/status', 400),
      p('GET', '/status?verbose=1', '/status', 400, { code: 'POLL_STATUS_QUERY_INVALID' }),
      // Paging and the state filter.
      p('GET', '/status?limit=1&offset=0', '/status', 200),
      p('GET', '/status?limit=500&offset=7', '/status', 200),
      p('GET', '/status?state=ok,never_polled,failing', '/status', 200),
      p('GET', `/status?server=${server}&state=paused`, '/status', 200),
      ...[
        'limit=0',
        'limit=501',
        'limit=x',
        'offset=-1',
        'offset=1.5',
        'state=nope',
        'state=ok,',
      ].map((query) =>
        p('GET', `/status?${query}`, '/status', 400, { code: 'POLL_STATUS_QUERY_INVALID' }),
      ),
      p('GET', '/status/%ZZ', null, 400, { code: 'HTTP_REQUEST_INVALID' }),
      p('POST', '/status', '/status', 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      // The light list.
      p('GET', '/status/servers', '/status/servers', 200),
      p('HEAD', '/status/servers', '/status/servers', 200),
      p('GET', '/status/servers?state=ok,failing', '/status/servers', 200),
      p('GET', '/status/servers?state=nope', '/status/servers', 400, {
        code: 'POLL_STATUS_QUERY_INVALID',
      }),
      p('GET', `/status/servers?server=${server}`, '/status/servers', 400, {
        code: 'POLL_STATUS_QUERY_INVALID',
      }),
      p('POST', '/status/servers', '/status/servers', 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
    ])
    // Another method than POST answers the same as POST (the document's `post` stands for all).
    const deleted = await send(bases.poller, 'DELETE', '/status', authorization('bearer'))
    expect(deleted.status).toBe(405)
    expect(deleted.headers.allow).toBe('GET, HEAD')
    const status = await check(p('GET', `/status?server=${server}`, '/status', 200))
    // The answer carries what the schemas describe, not only empty defaults.
    const answer = status.json as {
      summary: { operations: number; states: Record<string, number> }
      page: unknown
      operations: Record<string, unknown>[]
    }
    const [operation] = answer.operations
    expect(operation).toMatchObject({ server, backfills: [{ state: 'done' }] })
    expect(operation!.schedule).not.toBeNull()
    expect(answer.summary.operations).toBe(1)
    expect(answer.summary.states[operation!.state as string]).toBe(1)
    expect(answer.page).toEqual({ offset: 0, limit: 50, total: 1, next: null })
    const list = await check(p('GET', '/status/servers', '/status/servers', 200))
    expect((list.json as { servers: unknown[] }).servers).toEqual([
      expect.objectContaining({ server, state: operation!.state }),
    ])
  })

  it('the sentiment aggregator', async () => {
    const list = '/operations/{server}/agents'
    const windows = '/operations/{server}/agents/{agentKey}/sentiment'
    const summary = '/operations/{server}/agents/{agentKey}/summary'
    const s = (
      method: Call['method'],
      path: string,
      template: string | null,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service: 'sentiment', method, path, template, status, ...more })
    const agents = await check(s('GET', `/operations/${code}/agents`, list, 200))
    const all = agents.json as {
      agents: {
        agent_key: string
        totals: { messages_by_text_sentiment: Record<string, number>; text_mean_score: unknown }
      }[]
      next_cursor: string | null
    }
    expect(all.next_cursor).toBeNull()
    // Both sources, apart (validated against the schema by check): some customer messages of the
    // dataset have no Wolkvox feeling and are counted from their text.
    expect(
      all.agents.some((a) => Object.values(a.totals.messages_by_text_sentiment).some((n) => n > 0)),
    ).toBe(true)
    const key = encodeURIComponent(all.agents[0]!.agent_key)
    const agent = `/operations/${code}/agents/${key}`
    const invalid = { code: 'SENTIMENT_QUERY_INVALID' }
    await checkAll([
      ...common('sentiment'),
      s('HEAD', `/operations/${code}/agents`, list, 200),
      s('GET', '/operations/0/agents', list, 200),
      s('GET', `/operations/${code}/agents?limit=1000`, list, 200),
      s('GET', `/operations/${code}/agents?limit=&cursor=`, list, 200),
      s('GET', '/operations/%E0%A4%A/agents', list, 400, { code: 'HTTP_REQUEST_INVALID' }),
      s('GET', '/operations/abc/agents', list, 400, invalid),
      s('GET', '/operations/1234567/agents', list, 400, invalid),
      s('GET', `/operations/${code}/agents?limit=0`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?limit=1001`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?limit=ten`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?cursor=%21%21`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?cursor=abc`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?limit=1&limit=2`, list, 400, invalid),
      s('GET', `/operations/${code}/agents?sort=name`, list, 400, invalid),
      s('POST', `/operations/${code}/agents`, list, 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      s('GET', `${agent}/sentiment`, windows, 200),
      s('HEAD', `${agent}/sentiment`, windows, 200),
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
      s('GET', `${agent}/sentiment?granularity=day&limit=5000`, windows, 200),
      s('GET', `${agent}/sentiment?granularity=week`, windows, 400, invalid),
      s('GET', `${agent}/sentiment?from=yesterday`, windows, 400, invalid),
      s(
        'GET',
        `${agent}/sentiment?from=2025-02-12T00:00:00Z&to=2025-02-10T00:00:00Z`,
        windows,
        400,
        invalid,
      ),
      s('GET', `${agent}/sentiment?limit=5001`, windows, 400, invalid),
      s('GET', `${agent}/sentiment?cursor=not%20one`, windows, 400, invalid),
      s('GET', `${agent}/sentiment?granularity=day&granularity=hour`, windows, 400, invalid),
      s('GET', `${agent}/sentiment?team=1`, windows, 400, invalid),
      s('GET', `/operations/${code}/agents/%ZZ/sentiment`, windows, 400, {
        code: 'HTTP_REQUEST_INVALID',
      }),
      // Keys the aggregator could never write: capitals, a surrounding or a double space, too long.
      s('GET', `/operations/${code}/agents/Nobody/sentiment`, windows, 400, invalid),
      s('GET', `/operations/${code}/agents/%20nobody/sentiment`, windows, 400, invalid),
      s('GET', `/operations/${code}/agents/no%20%20body/sentiment`, windows, 400, invalid),
      s('GET', `/operations/${code}/agents/${'a'.repeat(257)}/sentiment`, windows, 400, invalid),
      s('GET', '/operations/x/agents/nobody/sentiment', windows, 400, invalid),
      s('GET', `/operations/${code}/agents/nobody/sentiment`, windows, 404, {
        code: 'SENTIMENT_AGENT_NOT_FOUND',
      }),
      s('GET', `/operations/${code}/agents/${'a'.repeat(256)}/sentiment`, windows, 404),
      s('POST', `${agent}/sentiment`, windows, 405),
      s('GET', `${agent}/summary`, summary, 200),
      s('HEAD', `${agent}/summary`, summary, 200),
      s('GET', `${agent}/summary?granularity=day`, summary, 400, invalid),
      s('GET', `/operations/${code}/agents/%ZZ/summary`, summary, 400),
      s('GET', `/operations/${code}/agents/NOBODY/summary`, summary, 400, invalid),
      s('GET', `/operations/${code}/agents/nobody/summary`, summary, 404, {
        code: 'SENTIMENT_AGENT_NOT_FOUND',
      }),
      s('POST', `${agent}/summary`, summary, 405),
      s('GET', `${agent}/other`, null, 404, { code: 'HTTP_NOT_FOUND' }),
      s('GET', `/operations/${code}`, null, 404),
      s('GET', '/nothing/%ZZ', null, 400, { code: 'HTTP_REQUEST_INVALID' }),
    ])

    // Paging: one agent, then one window, a page at a time, to the last page.
    const paged = await everyPage(s('GET', `/operations/${code}/agents`, list, 200), 'agents')
    expect(paged.pages.length).toBeGreaterThanOrEqual(2)
    expect(paged.items).toEqual(all.agents)
    const hours = (await check(s('GET', `${agent}/sentiment`, windows, 200))).json as {
      windows: unknown[]
    }
    const pagedWindows = await everyPage(s('GET', `${agent}/sentiment`, windows, 200), 'windows')
    expect(pagedWindows.items).toEqual(hours.windows)
  })

  it('the trámite classifier, its rules and their reload', async () => {
    const counts = '/operations/{server}/tramites'
    const conversation = '/operations/{server}/conversations/{connId}/tramite'
    const c = (
      method: Call['method'],
      path: string,
      template: string | null,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service: 'classifier', method, path, template, status, ...more })
    const invalid = { code: 'TRAMITE_QUERY_INVALID' }
    const json = { 'content-type': 'application/json' }
    const chat = `/operations/${code}/conversations/${encodeURIComponent(connId)}/tramite`
    const all = await check(c('GET', `/operations/${code}/tramites`, counts, 200))
    const whole = all.json as {
      counts: { channel: string }[]
      totals: unknown[]
      by_channel: unknown[]
      next_cursor: string | null
    }
    expect(whole.next_cursor).toBeNull()
    const channel = whole.counts[0]!.channel
    await checkAll([
      ...common('classifier'),
      c('HEAD', `/operations/${code}/tramites`, counts, 200),
      c(
        'GET',
        `/operations/${code}/tramites?from=2025-02-10&to=2025-02-11T23:00:00-05:00&channel=${encodeURIComponent(` ${channel.toUpperCase()}`)}`,
        counts,
        200,
      ),
      c('GET', `/operations/${code}/tramites?from=&to=%20&rules_version=never`, counts, 200),
      c('GET', `/operations/${code}/tramites?limit=10000`, counts, 200),
      c('GET', `/operations/${code}/tramites?from=nope`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?from=2025-02-30`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?from=2025-02-12&to=2025-02-10`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?limit=10001`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?limit=-1`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?cursor=%3D%3D`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?channel=${'x'.repeat(65)}`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?rules_version=a%01b`, counts, 400, invalid),
      c('GET', `/operations/${code}/tramites?day=2025-02-10`, counts, 400, invalid),
      c(
        'GET',
        `/operations/${code}/tramites?from=2025-02-10&from=2025-02-11`,
        counts,
        400,
        invalid,
      ),
      c('GET', '/operations/%ZZ/tramites', counts, 400, { code: 'HTTP_REQUEST_INVALID' }),
      c('GET', '/operations/code/tramites', counts, 400, invalid),
      c('POST', `/operations/${code}/tramites`, counts, 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      c('GET', chat, conversation, 200),
      c('HEAD', chat, conversation, 200),
      c('GET', `/operations/${code}/conversations/nobody/tramite`, conversation, 404, {
        code: 'TRAMITE_CONVERSATION_NOT_FOUND',
      }),
      c('GET', `/operations/${code}/conversations/${'c'.repeat(128)}/tramite`, conversation, 404),
      c('GET', `/operations/${code}/conversations/%ZZ/tramite`, conversation, 400, {
        code: 'HTTP_REQUEST_INVALID',
      }),
      // conn_ids no request may name: a surrounding space, a control character, too long.
      c('GET', `/operations/${code}/conversations/%20nobody/tramite`, conversation, 400, invalid),
      c('GET', `/operations/${code}/conversations/no%01body/tramite`, conversation, 400, invalid),
      c(
        'GET',
        `/operations/${code}/conversations/${'c'.repeat(129)}/tramite`,
        conversation,
        400,
        invalid,
      ),
      c('GET', '/operations/0x10/conversations/nobody/tramite', conversation, 400, invalid),
      c('GET', `${chat}?explain=1`, conversation, 400, invalid),
      c('POST', chat, conversation, 405),
      c('GET', `/operations/${code}/other`, null, 404),
      c('GET', '/rules/other', null, 404),
      c('GET', '/rules', '/rules', 200),
      c('HEAD', '/rules', '/rules', 200),
      c('GET', '/rules?version=1', '/rules', 400, invalid),
      c('POST', '/rules', '/rules', 405, { headers: json }),
      c('GET', '/rules/reload', '/rules/reload', 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      c('HEAD', '/rules/reload', '/rules/reload', 405),
      // What a web page could send: no JSON content type, or another origin.
      c('POST', '/rules/reload', '/rules/reload', 403, { code: 'HTTP_CROSS_SITE_REFUSED' }),
      c('POST', '/rules/reload', '/rules/reload', 403, {
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
      c('POST', '/rules/reload', '/rules/reload', 403, {
        headers: { ...json, origin: 'https://elsewhere.example' },
      }),
      c('POST', '/rules/reload', '/rules/reload', 403, { headers: { ...json, origin: 'null' } }),
      c('POST', '/rules/reload?force=1', '/rules/reload', 400, { headers: json, ...invalid }),
      // The file holds the rules in force: the same version twice.
      c('POST', '/rules/reload', '/rules/reload', 200, {
        headers: {
          'content-type': 'application/json; charset=utf-8',
          origin: bases.classifier,
        },
        body: '{}',
      }),
    ])
    // Paging the count lines (of the rules in force, before a reload puts others in force): totals and by_channel cover the whole selection on every page.
    const paged = await everyPage(c('GET', `/operations/${code}/tramites`, counts, 200), 'counts')
    expect(paged.pages.length).toBeGreaterThanOrEqual(2)
    expect(paged.items).toEqual(whole.counts)
    for (const page of paged.pages) {
      expect(page.totals).toEqual(whole.totals)
      expect(page.by_channel).toEqual(whole.by_channel)
    }

    const reload = c('POST', '/rules/reload', '/rules/reload', 200, { headers: json })
    const rules = JSON.parse(shippedRules) as { version: string; tramites: { label: string }[] }
    writeFileSync(rulesFile, JSON.stringify({ ...rules, version: `${rules.version}-contract` }))
    const reloaded = await check(reload)
    expect(reloaded.json).toEqual({
      version: `${rules.version}-contract`,
      previous_version: rules.version,
    })
    // Other rules under the version in force, an invalid file, no file: each refused.
    rules.tramites[0]!.label = 'Otro nombre'
    writeFileSync(rulesFile, JSON.stringify({ ...rules, version: `${rules.version}-contract` }))
    const refused = await check({ ...reload, status: 400 })
    writeFileSync(rulesFile, '{"version": ""}')
    const invalidFile = await check({ ...reload, status: 400 })
    unlinkSync(rulesFile)
    const unreadable = await check({ ...reload, status: 400 })
    expect(
      [refused, invalidFile, unreadable].map(
        (a) => (a.json as { error: { code: string } }).error.code,
      ),
    ).toEqual([
      'TRAMITE_RULES_VERSION_UNCHANGED',
      'TRAMITE_RULES_INVALID',
      'TRAMITE_RULES_FILE_UNREADABLE',
    ])
    await check(c('GET', '/rules', '/rules', 200))
  })

  it('the chat quality service, its rules and their reload', async () => {
    const list = '/operations/{server}/quality/agents'
    const windows = '/operations/{server}/quality/agents/{agentKey}'
    const conversation = '/operations/{server}/quality/conversations/{connId}'
    const fcr = '/operations/{server}/fcr'
    const q = (
      method: Call['method'],
      path: string,
      template: string | null,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service: 'quality', method, path, template, status, ...more })
    const invalid = { code: 'QUALITY_QUERY_INVALID' }
    const json = { 'content-type': 'application/json' }
    const agents = await check(q('GET', `/operations/${code}/quality/agents`, list, 200))
    const all = agents.json as {
      agents: { agent_key: string; agent_name: string; totals: { conversations: number } }[]
      next_cursor: string | null
    }
    expect(all.next_cursor).toBeNull()
    // The answers carry figures, not only empty defaults.
    expect(all.agents.length).toBeGreaterThanOrEqual(2)
    const busiest = [...all.agents]
      .filter((a) => a.agent_key !== '')
      .sort((a, b) => b.totals.conversations - a.totals.conversations)[0]!
    expect(busiest.totals.conversations).toBeGreaterThan(0)
    const agent = `/operations/${code}/quality/agents/${encodeURIComponent(busiest.agent_key)}`
    const chat = `/operations/${code}/quality/conversations/${encodeURIComponent(connId)}`
    await checkAll([
      ...common('quality'),
      q('HEAD', `/operations/${code}/quality/agents`, list, 200),
      q('GET', '/operations/0/quality/agents', list, 200),
      q('GET', `/operations/${code}/quality/agents?limit=1000`, list, 200),
      q('GET', `/operations/${code}/quality/agents?limit=&cursor=`, list, 200),
      q('GET', '/operations/%E0%A4%A/quality/agents', list, 400, {
        code: 'HTTP_REQUEST_INVALID',
      }),
      q('GET', '/operations/abc/quality/agents', list, 400, invalid),
      q('GET', '/operations/1234567/quality/agents', list, 400, invalid),
      q('GET', `/operations/${code}/quality/agents?limit=0`, list, 400, invalid),
      q('GET', `/operations/${code}/quality/agents?limit=1001`, list, 400, invalid),
      q('GET', `/operations/${code}/quality/agents?cursor=abc`, list, 400, invalid),
      q('GET', `/operations/${code}/quality/agents?limit=1&limit=2`, list, 400, invalid),
      q('GET', `/operations/${code}/quality/agents?sort=name`, list, 400, invalid),
      q('POST', `/operations/${code}/quality/agents`, list, 405, {
        code: 'HTTP_METHOD_NOT_ALLOWED',
      }),
      q('GET', agent, windows, 200),
      q('HEAD', agent, windows, 200),
      q('GET', `${agent}?granularity=hour`, windows, 200),
      q('GET', `${agent}?granularity=day&from=2025-02-10&to=20250212000000`, windows, 200),
      q('GET', `${agent}?from=2025-02-10T05:00:00Z&to=2025-02-10T09:00:00-05:00`, windows, 200),
      q('GET', `${agent}?granularity=hour&limit=5000`, windows, 200),
      q('GET', `${agent}?granularity=week`, windows, 400, invalid),
      q('GET', `${agent}?from=yesterday`, windows, 400, invalid),
      q('GET', `${agent}?from=2025-02-12T00:00:00Z&to=2025-02-10T00:00:00Z`, windows, 400, invalid),
      q('GET', `${agent}?limit=5001`, windows, 400, invalid),
      q('GET', `${agent}?cursor=not%20one`, windows, 400, invalid),
      q('GET', `${agent}?granularity=day&granularity=hour`, windows, 400, invalid),
      q('GET', `${agent}?team=1`, windows, 400, invalid),
      q('GET', `/operations/${code}/quality/agents/%ZZ`, windows, 400, {
        code: 'HTTP_REQUEST_INVALID',
      }),
      // Keys no service could write: capitals, a surrounding or a double space, too long.
      q('GET', `/operations/${code}/quality/agents/Nobody`, windows, 400, invalid),
      q('GET', `/operations/${code}/quality/agents/%20nobody`, windows, 400, invalid),
      q('GET', `/operations/${code}/quality/agents/no%20%20body`, windows, 400, invalid),
      q('GET', `/operations/${code}/quality/agents/${'a'.repeat(257)}`, windows, 400, invalid),
      q('GET', '/operations/x/quality/agents/nobody', windows, 400, invalid),
      q('GET', `/operations/${code}/quality/agents/nobody`, windows, 404, {
        code: 'QUALITY_AGENT_NOT_FOUND',
      }),
      q('GET', `/operations/${code}/quality/agents/${'a'.repeat(256)}`, windows, 404),
      q('POST', agent, windows, 405),
      q('GET', chat, conversation, 200),
      q('HEAD', chat, conversation, 200),
      q('GET', `/operations/${code}/quality/conversations/nobody`, conversation, 404, {
        code: 'QUALITY_CONVERSATION_NOT_FOUND',
      }),
      q('GET', `/operations/${code}/quality/conversations/${'c'.repeat(128)}`, conversation, 404),
      q('GET', `/operations/${code}/quality/conversations/%ZZ`, conversation, 400, {
        code: 'HTTP_REQUEST_INVALID',
      }),
      // conn_ids no request may name: a surrounding space, a control character, too long.
      q('GET', `/operations/${code}/quality/conversations/%20nobody`, conversation, 400, invalid),
      q('GET', `/operations/${code}/quality/conversations/no%01body`, conversation, 400, invalid),
      q(
        'GET',
        `/operations/${code}/quality/conversations/${'c'.repeat(129)}`,
        conversation,
        400,
        invalid,
      ),
      q('GET', '/operations/0x10/quality/conversations/nobody', conversation, 400, invalid),
      q('GET', `${chat}?explain=1`, conversation, 400, invalid),
      q('POST', chat, conversation, 405),
      // First-contact resolution; by default the last 30 local days (none of the events' days).
      q('GET', `/operations/${code}/fcr`, fcr, 200),
      q('HEAD', `/operations/${code}/fcr`, fcr, 200),
      q('GET', '/operations/0/fcr?by=channel', fcr, 200),
      q('GET', `/operations/${code}/fcr?by=&from=&to=`, fcr, 200),
      q('GET', `/operations/${code}/fcr?to=2025-02-10`, fcr, 200),
      // 93 days at most: 2025-02-09 to 2025-05-12, both whole days, is 93 days; to 2025-05-13 one more.
      q('GET', `/operations/${code}/fcr?from=2025-02-09&to=2025-05-12`, fcr, 200),
      q('GET', `/operations/${code}/fcr?from=2025-02-09&to=2025-05-13`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?from=2000-01-01`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?from=2025-02-12&to=2025-02-10`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?by=week`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?by=Agent`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?by=agent&by=channel`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?from=yesterday`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?to=2025-02-30`, fcr, 400, invalid),
      q('GET', `/operations/${code}/fcr?window=1d`, fcr, 400, invalid),
      q('GET', '/operations/abc/fcr', fcr, 400, invalid),
      q('GET', '/operations/%E0%A4%A/fcr', fcr, 400, { code: 'HTTP_REQUEST_INVALID' }),
      q('POST', `/operations/${code}/fcr`, fcr, 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      q('GET', `/operations/${code}/fcr/agents`, null, 404),
      q('GET', `/operations/${code}/quality/other`, null, 404),
      q('GET', `/operations/${code}/quality`, null, 404),
      q('GET', `/operations/${code}/tramites`, null, 404, { code: 'HTTP_NOT_FOUND' }),
      q('GET', '/nothing/%ZZ', null, 400, { code: 'HTTP_REQUEST_INVALID' }),
      q('GET', '/rules/other', null, 404),
      q('GET', '/rules', '/rules', 200),
      q('HEAD', '/rules', '/rules', 200),
      q('GET', '/rules?version=1', '/rules', 400, invalid),
      q('POST', '/rules', '/rules', 405, { headers: json }),
      q('GET', '/rules/reload', '/rules/reload', 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      q('HEAD', '/rules/reload', '/rules/reload', 405),
      q('POST', '/rules/reload', '/rules/reload', 403, { code: 'HTTP_CROSS_SITE_REFUSED' }),
      q('POST', '/rules/reload', '/rules/reload', 403, {
        headers: { ...json, origin: 'https://elsewhere.example' },
      }),
      q('POST', '/rules/reload?force=1', '/rules/reload', 400, { headers: json, ...invalid }),
      // The file holds the rules in force: the same version twice.
      q('POST', '/rules/reload', '/rules/reload', 200, {
        headers: { ...json, origin: bases.quality },
        body: '{}',
      }),
    ])

    // The answers hold what the service counted: every complete chat once, with its figures.
    const totals = all.agents.reduce((n, a) => n + a.totals.conversations, 0)
    expect(totals).toBe(completeChats.size)
    const byDay = (await check(q('GET', agent, windows, 200))).json as {
      granularity: string
      totals: { conversations: number }
      windows: { conversations: number }[]
    }
    expect(byDay.granularity).toBe('day')
    expect(byDay.totals.conversations).toBe(busiest.totals.conversations)
    expect(byDay.windows.reduce((n, w) => n + w.conversations, 0)).toBe(
      busiest.totals.conversations,
    )
    const one = (await check(q('GET', chat, conversation, 200))).json as {
      conn_id: string
      checks: { check: string }[]
      emitted: boolean
    }
    const protocol = JSON.parse(shippedProtocol) as { version: string; tramites: { id: string }[] }
    expect(one.conn_id).toBe(connId)
    expect(one.checks.map((c) => c.check)).toEqual(protocol.tramites.map((r) => r.id))
    expect(one.emitted).toBe(completeChats.has(connId))

    // FCR of the events' local day (America/Bogota: 2025-02-09), once every written chat's
    // classification has reached the quality service: every chat counted once in each grouping.
    // The dataset's customers each write once, so every chat is resolved (its window long past).
    const range = 'from=2025-02-09&to=2025-02-11'
    type FcrFigures = Record<
      'conversations' | 'resolved' | 'repeated' | 'pending' | 'no_identity' | 'awaiting_tramite',
      number
    > & { rate: number | null }
    interface FcrAnswer {
      by: string
      window_ms: number
      totals: FcrFigures
      groups: {
        key: string | null
        agent_name?: string | null
        totals: FcrFigures
        days: (FcrFigures & { day: string })[]
      }[]
    }
    await waitFor(
      async () => {
        const answer = await fetch(`${bases.quality}/operations/${code}/fcr?${range}`, withToken)
        const { totals: t } = (await answer.json()) as FcrAnswer
        return t.conversations === completeChats.size && t.awaiting_tramite === 0
      },
      {
        what: 'the quality service to hold the trámite of every chat it wrote',
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    )
    const fcrOf = async (by: string): Promise<FcrAnswer> =>
      (await check(q('GET', `/operations/${code}/fcr?by=${by}&${range}`, fcr, 200)))
        .json as FcrAnswer
    const byAgent = await fcrOf('agent')
    const byTramite = await fcrOf('tramite')
    const byChannel = await fcrOf('channel')
    for (const answer of [byAgent, byTramite, byChannel]) {
      expect(answer.window_ms).toBe(7 * 86_400_000)
      expect(answer.totals).toEqual({
        conversations: completeChats.size,
        resolved: completeChats.size,
        repeated: 0,
        pending: 0,
        no_identity: 0,
        awaiting_tramite: 0,
        rate: 1,
      })
      expect(answer.groups.reduce((n, g) => n + g.totals.conversations, 0)).toBe(completeChats.size)
      for (const group of answer.groups) {
        expect(group.days.map((d) => d.day)).toEqual(['2025-02-09'])
        expect(group.days[0]!.conversations).toBe(group.totals.conversations)
      }
    }
    // By agent: the agents of the quality list, with their names and their chats.
    const named = new Map(all.agents.map((a) => [a.agent_key, a]))
    for (const group of byAgent.groups) {
      const listed = named.get(group.key ?? '')
      expect(listed, String(group.key)).toBeDefined()
      expect(group.agent_name).toBe(listed!.agent_name)
      expect(group.totals.conversations).toBe(listed!.totals.conversations)
    }
    for (const group of [...byTramite.groups, ...byChannel.groups])
      expect(group).not.toHaveProperty('agent_name')
    // By trámite: the classifier's rules' ids (null for a chat it found none for).
    const tramiteIds = (JSON.parse(shippedRules) as { tramites: { id: string }[] }).tramites.map(
      (t) => t.id,
    )
    expect(byTramite.groups.length).toBeGreaterThan(0)
    for (const group of byTramite.groups) expect([...tramiteIds, null]).toContain(group.key)

    // Paging: one agent, then one window, a page at a time, to the last page.
    const paged = await everyPage(
      q('GET', `/operations/${code}/quality/agents`, list, 200),
      'agents',
    )
    expect(paged.pages.length).toBeGreaterThanOrEqual(2)
    expect(paged.items).toEqual(all.agents)
    const hours = (await check(q('GET', `${agent}?granularity=hour`, windows, 200))).json as {
      windows: unknown[]
    }
    const pagedWindows = await everyPage(
      q('GET', `${agent}?granularity=hour`, windows, 200),
      'windows',
    )
    expect(pagedWindows.items).toEqual(hours.windows)

    // A new version is put in force; an invalid file is refused and the rules in force stay.
    const reload = q('POST', '/rules/reload', '/rules/reload', 200, { headers: json })
    writeFileSync(
      protocolFile,
      JSON.stringify({ ...protocol, version: `${protocol.version}-contract` }),
    )
    expect((await check(reload)).json).toEqual({
      version: `${protocol.version}-contract`,
      previous_version: protocol.version,
    })
    writeFileSync(protocolFile, '{"version": ""}')
    const refused = await check({ ...reload, status: 400 })
    expect((refused.json as { error: { code: string } }).error.code).toBe('TRAMITE_RULES_INVALID')
    const rules = await check(q('GET', '/rules', '/rules', 200))
    expect(rules.json).toMatchObject({ version: `${protocol.version}-contract` })
  })

  it('the dashboard: its page, its proxy, and a service down or hung behind it', async () => {
    const agents = (await (
      await fetch(`${bases.sentiment}/operations/${code}/agents`, withToken)
    ).json()) as {
      agents: { agent_key: string }[]
    }
    const key = encodeURIComponent(agents.agents[0]!.agent_key)
    const chat = encodeURIComponent(connId)
    const d = (
      method: Call['method'],
      path: string,
      template: string | null,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service: 'dashboard', method, path, template, status, ...more })
    const proxied = {
      status: '/api/poller/status',
      servers: '/api/poller/status/servers',
      agents: '/api/sentiment/operations/{server}/agents',
      windows: '/api/sentiment/operations/{server}/agents/{agentKey}/sentiment',
      summary: '/api/sentiment/operations/{server}/agents/{agentKey}/summary',
      counts: '/api/classifier/operations/{server}/tramites',
      conversation: '/api/classifier/operations/{server}/conversations/{connId}/tramite',
      rules: '/api/classifier/rules',
    }
    const kit = ['healthz', 'readyz', 'metrics'] as const
    const upstreams = ['poller', 'sentiment', 'classifier', 'quality'] as const
    const refused = { code: 'DASHBOARD_PROXY_REFUSED' }
    await checkAll([
      ...common('dashboard'),
      d('GET', '/', '/', 200),
      // A browser's login: any user name, the token as the password.
      d('GET', '/', '/', 200, { credentials: 'basic' }),
      d('GET', '/', '/', 401, { credentials: 'basic-wrong', code: 'HTTP_UNAUTHORIZED' }),
      d('HEAD', '/', '/', 200),
      d('GET', '/index.html', '/index.html', 200),
      d('GET', '/app.js', '/app.js', 200, { credentials: 'basic' }),
      d('GET', '/chart.js', '/chart.js', 200),
      d('GET', '/style.css', '/style.css', 200),
      d('GET', '/config.json', '/config.json', 200),
      d('GET', '/config.json', '/config.json', 401, { credentials: 'wrong' }),
      d('POST', '/', null, 404),
      d('GET', '/nothing/%ZZ', null, 404),
      d('GET', '/api', '/api', 404, refused),
      d('POST', '/api', '/api', 405, { code: 'HTTP_METHOD_NOT_ALLOWED' }),
      ...kit.flatMap((route) => [
        ...upstreams.map((s) => d('GET', `/api/${s}/${route}`, `/api/{service}/${route}`, 200)),
        d('GET', `/api/nobody/${route}`, `/api/{service}/${route}`, 404, refused),
        d('POST', `/api/poller/${route}`, `/api/{service}/${route}`, 405),
      ]),
      d('HEAD', '/api/sentiment/metrics', '/api/{service}/metrics', 200),
      d('GET', '/api/poller/status', proxied.status, 200),
      d('HEAD', '/api/poller/status', proxied.status, 200),
      d('GET', `/api/poller/status?server=${poller!.server}`, proxied.status, 200),
      d('GET', '/api/poller/status?server=0', proxied.status, 404, {
        code: 'POLL_OPERATION_NOT_FOUND',
      }),
      d('GET', '/api/poller/status?server=nope', proxied.status, 400, {
        code: 'POLL_STATUS_QUERY_INVALID',
      }),
      d('POST', '/api/poller/status', proxied.status, 405),
      d('GET', '/api/poller/status?limit=1&state=ok,failing', proxied.status, 200),
      d('GET', '/api/poller/status?offset=-1', proxied.status, 400, {
        code: 'POLL_STATUS_QUERY_INVALID',
      }),
      d('GET', '/api/poller/status/servers', proxied.servers, 200),
      d('HEAD', '/api/poller/status/servers', proxied.servers, 200),
      d('GET', '/api/poller/status/servers?state=nope', proxied.servers, 400, {
        code: 'POLL_STATUS_QUERY_INVALID',
      }),
      d('POST', '/api/poller/status/servers', proxied.servers, 405),
      d('GET', '/api/poller/nothing', null, 404),
      d('GET', `/api/sentiment/operations/${code}/agents`, proxied.agents, 200),
      d('GET', `/api/sentiment/operations/${code}/agents?limit=1`, proxied.agents, 200),
      d('GET', '/api/sentiment/operations/%2e%2e/agents', proxied.agents, 400, refused),
      d('GET', '/api/sentiment/operations/%E0%A4%A/agents', proxied.agents, 400, refused),
      d('GET', '/api/sentiment/operations/abc/agents', proxied.agents, 400, {
        code: 'SENTIMENT_QUERY_INVALID',
      }),
      d('GET', `/api/sentiment/operations/${code}/agents?limit=0`, proxied.agents, 400),
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
      d('GET', `/api/classifier/operations/${code}/tramites?limit=1`, proxied.counts, 200),
      d('GET', `/api/classifier/operations/${code}/tramites?from=nope`, proxied.counts, 400),
      d('GET', `/api/classifier/operations/${code}/tramites?cursor=%21`, proxied.counts, 400),
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
        refused,
      ),
      d(
        'GET',
        `/api/classifier/operations/${code}/conversations/%20nobody/tramite`,
        proxied.conversation,
        400,
        { code: 'TRAMITE_QUERY_INVALID' },
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
      d('GET', '/api/classifier/rules?version=1', proxied.rules, 400),
      d('POST', '/api/classifier/rules', proxied.rules, 405),
      d('POST', '/api/classifier/rules/reload', '/api/classifier/rules/reload', 405, {
        headers: { 'content-type': 'application/json' },
      }),
    ])
    // The first page through the proxy has the aggregator's cursor.
    const first = await check(
      d('GET', `/api/sentiment/operations/${code}/agents?limit=1`, proxied.agents, 200),
    )
    const cursor = (first.json as { next_cursor: string | null }).next_cursor
    expect(cursor).not.toBeNull()
    await check(
      d(
        'GET',
        `/api/sentiment/operations/${code}/agents?limit=1&cursor=${cursor}`,
        proxied.agents,
        200,
      ),
    )

    // Every proxied GET with nothing listening behind it (502), and with a hung service (504).
    const forwarded = (status: number): Call[] => [
      ...kit.flatMap((route) =>
        upstreams.map((s) => d('GET', `/api/${s}/${route}`, `/api/{service}/${route}`, status)),
      ),
      d('GET', '/api/poller/status', proxied.status, status),
      d('GET', '/api/poller/status/servers', proxied.servers, status),
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

  it('every server refuses before any operation: a bad path, too much, too fast, too slow', async () => {
    const r = (
      service: Service,
      method: Call['method'],
      path: string,
      status: number,
      more: Partial<Call> = {},
    ): Call => ({ service, method, path, template: REFUSAL, status, ...more })
    // Headers that never end: answered once the 10 s header timeout is over.
    const slow = check(
      r('sentiment', 'GET', '/healthz', 408, {
        raw: 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        code: 'HTTP_REQUEST_TIMEOUT',
      }),
    )
    const invalid = { code: 'HTTP_REQUEST_INVALID' }
    await checkAll([
      r('sentiment', 'GET', `/operations/%00/agents`, 400, invalid),
      // Before the token: no token needed to be told.
      r('dashboard', 'GET', '/api/poller/%00', 400, { ...invalid, credentials: 'none' }),
      r('poller', 'GET', `/${'a'.repeat(2049)}`, 400, invalid),
      r('classifier', 'OPTIONS', '*', 400, invalid),
      r('classifier', 'GET', '/rules', 400, { ...invalid, raw: 'NOT HTTP AT ALL\r\n\r\n' }),
      r('poller', 'GET', '/status', 431, {
        ...invalid,
        raw: `GET /status HTTP/1.1\r\nHost: x\r\nx-padding: ${'p'.repeat(17 * 1024)}\r\n\r\n`,
      }),
      r('classifier', 'POST', '/rules/reload', 413, {
        code: 'HTTP_BODY_TOO_LARGE',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ padding: 'p'.repeat(5000) }),
      }),
    ])
    // One request a second (two at once): the third is refused; the probes are not limited.
    // HTTP_METRICS_PUBLIC=true there: /metrics answers without a token.
    const d = (path: string, status: number, more: Partial<Call> = {}): Call => ({
      service: 'dashboard',
      method: 'GET',
      path,
      template: path,
      status,
      ...more,
    })
    await check(d('/metrics', 200, { credentials: 'none' }), limitedBase)
    await check(d('/config.json', 200, { credentials: 'basic' }), limitedBase)
    // The next one is refused, unless the machine was so slow that a second went by: then soon.
    let sent = await send(limitedBase, 'GET', '/config.json', authorization('basic'))
    for (let more = 0; sent.status === 200 && more < 10; more += 1)
      sent = await send(limitedBase, 'GET', '/config.json', authorization('basic'))
    const tooMany = verify(
      d('/config.json', 429, {
        template: REFUSAL,
        credentials: 'basic',
        code: 'HTTP_RATE_LIMITED',
      }),
      sent,
      limitedBase,
    )
    expect(tooMany.headers['retry-after']).toBe('1')
    await check(d('/healthz', 200, { credentials: 'none' }), limitedBase)
    const timedOut = await slow
    expect(timedOut.headers.connection).toBe('close')
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
      const internal = { code: 'HTTP_INTERNAL_ERROR' }
      // All at once: each read fails after the client's third reconnection, later ones slower.
      const calls: Call[] = [
        { service: 'poller', method: 'GET', path: '/readyz', template: '/readyz', status: 503 },
        {
          service: 'poller',
          method: 'GET',
          path: '/status',
          template: '/status',
          status: 500,
          ...internal,
        },
        {
          service: 'poller',
          method: 'GET',
          path: '/status/servers',
          template: '/status/servers',
          status: 500,
          ...internal,
        },
        {
          service: 'sentiment',
          method: 'GET',
          path: `/operations/${code}/agents`,
          template: '/operations/{server}/agents',
          status: 500,
          ...internal,
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
          ...internal,
        },
        {
          service: 'classifier',
          method: 'GET',
          path: `/operations/${code}/conversations/${chat}/tramite`,
          template: '/operations/{server}/conversations/{connId}/tramite',
          status: 500,
        },
        {
          service: 'quality',
          method: 'GET',
          path: `/operations/${code}/quality/agents`,
          template: '/operations/{server}/quality/agents',
          status: 500,
          ...internal,
        },
        {
          service: 'quality',
          method: 'GET',
          path: `/operations/${code}/quality/agents/${key}`,
          template: '/operations/{server}/quality/agents/{agentKey}',
          status: 500,
        },
        {
          service: 'quality',
          method: 'GET',
          path: `/operations/${code}/quality/conversations/${chat}`,
          template: '/operations/{server}/quality/conversations/{connId}',
          status: 500,
        },
        {
          service: 'quality',
          method: 'GET',
          path: `/operations/${code}/fcr?by=tramite`,
          template: '/operations/{server}/fcr',
          status: 500,
          ...internal,
        },
        ...(
          [
            ['/api/poller/readyz', '/api/{service}/readyz', 503],
            ['/api/poller/status', '/api/poller/status', 500],
            ['/api/poller/status/servers', '/api/poller/status/servers', 500],
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
    const documented = new Set<string>([
      ...Object.keys(doc['x-unmatched-request'].responses).map((s) => `unmatched ${s}`),
      ...Object.keys(doc['x-server-refusals'].responses).map((s) => `refusal ${s}`),
    ])
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of methods) {
        for (const status of Object.keys(item[method]?.responses ?? {}))
          documented.add(`${method} ${template} ${status}`)
      }
    }
    expect([...documented].filter((answer) => !seen.has(answer))).toEqual([])
    expect([...seen].filter((answer) => !documented.has(answer))).toEqual([])
  })

  it('never shows a token: not in an answer (checked on each), not in a log', () => {
    const logged = [
      ...logs,
      ...loggedLines(aggregator!),
      poller!.process.stdout(),
      poller!.process.stderr(),
    ].join('\n')
    // The services did log (the dashboards, the classifier and the quality service at info).
    expect(logs.length).toBeGreaterThan(0)
    expect(logged).not.toContain(TOKEN)
    expect(logged).not.toContain(HTTP_TOKEN)
  })
})
