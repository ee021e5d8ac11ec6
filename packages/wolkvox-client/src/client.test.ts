import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { MockAgent } from 'undici'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Secret } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import {
  createWolkvoxClient,
  type ReportStream,
  type WolkvoxClient,
  type WolkvoxClientOptions,
} from './client.js'

const CANARY = 'canary-tok-7f3e1b9d5a'
const ORIGIN = 'https://wv0010.wolkvox.com'
const PATH = '/api/v2/reports_manager.php'
const FROM = new Date('2025-02-11T05:00:00Z') // 2025-02-11 00:00:00 in Bogota
const TO = new Date('2025-02-12T04:59:59Z') // 2025-02-11 23:59:59 in Bogota

/** Everything the tests print or throw, checked for the canary at the end. */
const outputs: string[] = []
const clients: WolkvoxClient[] = []
const servers: Server[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    }),
  )
})

afterAll(() => {
  // The canary is never in an error (message, details, cause chain, stack) nor in a log line.
  expect(outputs.length).toBeGreaterThan(40)
  for (const output of outputs) expect(output).not.toContain(CANARY)
})

function record(error: unknown): void {
  outputs.push(
    JSON.stringify(error),
    inspect(error, { depth: Infinity, showHidden: true }),
    String(error),
  )
}

const chat = (connId: string, messages: number): unknown => ({
  conn_id: connId,
  agent_name: 'Laura Gómez',
  customer_name: 'Ana  Pérez',
  conversation: Array.from({ length: messages }, (_, i) => ({
    channel: 'whatsapp',
    from: i % 2 === 0 ? 'CUSTOMER' : 'AGENT',
    from_name: i % 2 === 0 ? 'Ana  Pérez' : 'Laura Gómez',
    to_name: i % 2 === 0 ? 'Laura Gómez' : 'Ana  Pérez',
    date: `2025-02-11 10:22:${String(i).padStart(2, '0')}`,
    message: `mensaje ${i} ✅`,
    customer_id: '573001112233',
    feeling: 'neutral',
  })),
})

interface Harness {
  client: WolkvoxClient
  agent: MockAgent
  sleeps: number[]
  clock: { ms: number }
  logs: string[]
  calls: () => number
}

function mockHarness(options: Partial<WolkvoxClientOptions> = {}): Harness {
  const agent = new MockAgent({ enableCallHistory: true })
  agent.disableNetConnect()
  const sleeps: number[] = []
  const clock = { ms: Date.parse('2025-02-12T12:00:00Z') }
  const logs: string[] = []
  const log = (level: string) => (msg: string, fields?: Readonly<Record<string, unknown>>) => {
    const line = JSON.stringify({ level, msg, ...fields }, (_k, v: unknown) =>
      v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
    )
    logs.push(line)
    outputs.push(line)
  }
  const client = createWolkvoxClient({
    server: '0010',
    token: new Secret(CANARY),
    dispatcher: agent,
    now: () => clock.ms,
    sleep: (ms) => {
      sleeps.push(ms)
      clock.ms += ms
      return Promise.resolve()
    },
    random: () => 0.5,
    logger: { debug: log('debug'), warn: log('warn') },
    retry: { maxAttempts: 1 },
    ...options,
  })
  clients.push(client)
  return {
    client,
    agent,
    sleeps,
    clock,
    logs,
    calls: () => agent.getCallHistory()?.calls().length ?? 0,
  }
}

const reportPath = (path: string): boolean => path.startsWith(`${PATH}?`)

function reply(
  agent: MockAgent,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  times = 1,
): void {
  agent
    .get(ORIGIN)
    .intercept({ path: reportPath, method: 'GET' })
    .reply(status, typeof body === 'string' ? body : JSON.stringify(body), {
      headers: { 'content-type': 'application/json', ...headers },
    })
    .times(times)
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    record(error)
    expect(error).toBeInstanceOf(AppError)
    return error as AppError
  }
  throw new Error('expected the call to fail')
}

const fetchDay = (
  client: WolkvoxClient,
  extra: { signal?: AbortSignal; deadline?: number | (() => number) } = {},
) => client.fetchReport({ report: 'chat_2', from: FROM, to: TO, ...extra })

describe('a successful call', () => {
  it('sends the token, the server and the window as Bogota wall-clock time', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 200, {
      code: 200,
      error: null,
      msg: '2 records were found',
      data: [chat('a', 2), chat('b', 3)],
    })
    const result = await fetchDay(client)
    const [call] = agent.getCallHistory()!.calls()
    expect(call?.origin).toBe(ORIGIN)
    expect(call?.path).toBe(PATH)
    expect(call?.searchParams).toEqual({
      api: 'chat_2',
      date_ini: '20250211000000',
      date_end: '20250211235959',
    })
    expect(call?.headers).toMatchObject({ 'wolkvox-token': CANARY, wolkvox_server: '0010' })
    expect(result).toMatchObject({
      report: 'chat_2',
      server: '0010',
      status: 200,
      rowCount: 2,
      messageCount: 5,
      hitRowCap: false,
      attempts: 1,
      invalidRows: [],
      window: { dateIni: '20250211000000', dateEnd: '20250211235959' },
    })
    expect(result.rows.map((row) => row.conn_id)).toEqual(['a', 'b'])
    expect(result.bytes).toBeGreaterThan(500)
  })

  it('accepts code as the string "200" and counts data instead of trusting msg', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 200, {
      code: '200',
      error: null,
      msg: '999 records were found',
      data: [chat('a', 1)],
    })
    const result = await fetchDay(client)
    expect(result.rowCount).toBe(1)
    expect(result.messageCount).toBe(1)
  })

  it('formats the window in the configured zone', async () => {
    const { client, agent } = mockHarness({ timeZone: 'UTC' })
    reply(agent, 404, { code: 404, error: 'Validate dates entered', msg: 'Validate dates entered' })
    await fetchDay(client)
    expect(agent.getCallHistory()!.calls()[0]?.searchParams).toMatchObject({
      date_ini: '20250211050000',
      date_end: '20250212045959',
    })
  })

  it('treats the API 404 "Validate dates entered" as an empty window', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 404, { code: 404, error: 'Validate dates entered', msg: 'Validate dates entered' })
    const result = await fetchDay(client)
    expect(result).toMatchObject({
      status: 404,
      rows: [],
      rowCount: 0,
      messageCount: 0,
      hitRowCap: false,
    })
  })

  it('believes a status in the body when HTTP says 200', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 200, { code: '404', error: null, msg: 'Validate dates entered', data: [] })
    expect((await fetchDay(client)).status).toBe(404)
    reply(agent, 200, { code: 403, error: null, msg: 'PLEASE VALIDATE TOKEN' })
    expect((await failure(fetchDay(client))).code).toBe('WOLKVOX_TOKEN_INVALID')
  })

  it('sets aside unreadable items and keeps the rest', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 200, {
      code: 200,
      data: [chat('a', 2), 'oops', { conn_id: 'b', conversation: 'x' }],
    })
    const result = await fetchDay(client)
    expect(result.rows.map((row) => row.conn_id)).toEqual(['a'])
    expect(result.rowCount).toBe(3)
    expect(result.invalidRows).toEqual([
      { index: 1, reason: 'item is not an object', raw: '"oops"' },
      {
        index: 2,
        reason: 'conversation is not an array',
        raw: '{"conn_id":"b","conversation":"x"}',
      },
    ])
  })

  it('flags a response at the row cap, counted in messages or in chats', async () => {
    const { client, agent } = mockHarness({ rowCap: 5 })
    reply(agent, 200, { code: 200, data: [chat('a', 2), chat('b', 3)] })
    expect((await fetchDay(client)).hitRowCap).toBe(true)
    reply(agent, 200, {
      code: 200,
      data: [chat('a', 0), chat('b', 0), chat('c', 0), chat('d', 0), chat('e', 0)],
    })
    expect((await fetchDay(client)).hitRowCap).toBe(true)
    reply(agent, 200, { code: 200, data: [chat('a', 2), chat('b', 2)] })
    expect((await fetchDay(client)).hitRowCap).toBe(false)
  })
})

describe('streaming the items', () => {
  const connIds = (items: unknown[]): string[] =>
    items.map((item) => (item as { conn_id: string }).conn_id)
  /** Streams the day's report, the chats' `conn_id`s going into `seen` as they are handed out. */
  const streamDay = (
    client: WolkvoxClient,
    seen: string[],
    options: Omit<ReportStream, 'onItems'> = {},
  ) =>
    client.fetchReport({
      report: 'chat_2',
      from: FROM,
      to: TO,
      stream: {
        onItems: (items) => {
          seen.push(...connIds(items))
          return Promise.resolve()
        },
        ...options,
      },
    })

  it('hands the items out in order, a group at a time, and keeps none in items', async () => {
    const { client, agent } = mockHarness()
    const data = Array.from({ length: 40 }, (_, i) => chat(`c${i}`, 100))
    reply(agent, 200, { code: 200, msg: 'ok', data })
    const groups: string[][] = []
    const result = await client.fetchReport({
      report: 'chat_2',
      from: FROM,
      to: TO,
      stream: {
        onItems: (items) => {
          groups.push(connIds(items))
          return Promise.resolve()
        },
        firstMessages: 500,
        messages: 1_000,
      },
    })
    expect(groups.flat()).toEqual(data.map((_, i) => `c${i}`))
    // 500 messages, then 1,000 per group (the body arrives whole here, so every group is full).
    expect(groups.map((g) => g.length)).toEqual([5, 10, 10, 10, 5])
    expect(result).toMatchObject({ items: [], rowCount: 40, messageCount: 4_000, hitRowCap: false })
  })

  it('ends the call with the error the stream threw, never retried', async () => {
    const { client, agent, calls } = mockHarness({ retry: { maxAttempts: 3 } })
    reply(agent, 200, { code: 200, data: [chat('a', 2)] }, {}, 3)
    const kafkaDown = new Error('the sink failed')
    const outcome = client.fetchReport({
      report: 'chat_2',
      from: FROM,
      to: TO,
      stream: { onItems: () => Promise.reject(kafkaDown) },
    })
    await expect(outcome).rejects.toBe(kafkaDown)
    expect(calls()).toBe(1)
  })

  it('awaits onRetry before a retry hands the items out again from the first', async () => {
    const { client, agent } = mockHarness({ retry: { maxAttempts: 2 } })
    const whole = JSON.stringify({ code: 200, data: [chat('a', 1), chat('b', 1), chat('c', 1)] })
    // Cut inside the third chat: the first two went out before the body proved malformed.
    reply(agent, 200, whole.slice(0, whole.indexOf('"c"') + 10))
    reply(agent, 200, whole)
    const seen: string[] = []
    const result = await streamDay(client, seen, {
      onRetry: async () => {
        await Promise.resolve()
        seen.push('retry')
      },
      firstMessages: 1,
      messages: 1,
    })
    expect(seen).toEqual(['a', 'b', 'retry', 'a', 'b', 'c'])
    expect(result.attempts).toBe(2)
  })

  it('hands out nothing past the row cap, and still counts the whole response', async () => {
    const { client, agent } = mockHarness({ rowCap: 3 })
    const data = ['a', 'b', 'c', 'd', 'e'].map((id) => chat(id, 0))
    reply(agent, 200, { code: 200, data })
    const seen: string[] = []
    const result = await streamDay(client, seen)
    expect(seen).toEqual(['a', 'b', 'c'])
    expect(result).toMatchObject({ rowCount: 5, hitRowCap: true })
  })

  it('judges the whole body: an error status after data fails the call', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 200, '{"data":[],"code":"403","msg":"Token limit exceeded"}')
    const error = await failure(
      client.fetchReport({
        report: 'chat_2',
        from: FROM,
        to: TO,
        stream: { onItems: () => Promise.resolve() },
      }),
    )
    expect(error.code).toBe('WOLKVOX_QUOTA_EXCEEDED')
  })
})

describe('every row of the error table', () => {
  it.each([
    [
      400,
      {
        code: 400,
        error: 'THE API YOU WANT TO CONSULT DOES NOT EXIST',
        msg: 'THE API YOU WANT TO CONSULT DOES NOT EXIST',
      },
      'WOLKVOX_API_UNKNOWN',
      false,
    ],
    [
      400,
      { code: 400, error: 'SOME PARAMETERS ARE REQUIRED', msg: 'SOME PARAMETERS ARE REQUIRED' },
      'WOLKVOX_BAD_REQUEST',
      false,
    ],
    [
      400,
      { code: '400', msg: 'THE DATE RANGE CANNOT EXCEED 31 DAYS' },
      'WOLKVOX_BAD_REQUEST',
      false,
    ],
    [416, 'Range Not Satisfiable', 'WOLKVOX_BAD_REQUEST', false],
    [
      401,
      { code: 401, error: 'PLEASE ENTER THE WOLKVOX-TOKEN', msg: 'PLEASE ENTER THE WOLKVOX-TOKEN' },
      'WOLKVOX_TOKEN_MISSING',
      false,
    ],
    [
      403,
      { code: 403, error: 'PLEASE VALIDATE TOKEN', msg: 'PLEASE VALIDATE TOKEN' },
      'WOLKVOX_TOKEN_INVALID',
      false,
    ],
    [
      403,
      { code: 403, error: 'TOKEN LIMIT EXCEEDED', msg: 'TOKEN LIMIT EXCEEDED' },
      'WOLKVOX_QUOTA_EXCEEDED',
      false,
    ],
    [
      403,
      { code: 403, msg: 'EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)' },
      'WOLKVOX_CONCURRENT_LIMIT',
      true,
    ],
    [
      403,
      '<html><body>Estamos realizando copias de seguridad</body></html>',
      'WOLKVOX_MAINTENANCE',
      true,
    ],
    [403, { code: 403, msg: 'SERVER UNDER MAINTENANCE' }, 'WOLKVOX_MAINTENANCE', true],
    [404, '<html><h1>Not Found</h1></html>', 'WOLKVOX_ENDPOINT_NOT_FOUND', false],
    [
      404,
      { code: 404, msg: 'Validate dates entered', data: [chat('a', 1)] },
      'WOLKVOX_MALFORMED_RESPONSE',
      true,
    ],
    [429, { code: 429, msg: 'Too Many Requests' }, 'WOLKVOX_RATE_LIMITED', true],
    [500, 'Internal Server Error', 'WOLKVOX_SERVER_ERROR', true],
    [502, '<html>Bad Gateway</html>', 'WOLKVOX_SERVER_ERROR', true],
    [503, '', 'WOLKVOX_SERVER_ERROR', true],
    [418, "I'm a teapot", 'WOLKVOX_UNEXPECTED_STATUS', false],
    [204, '', 'WOLKVOX_UNEXPECTED_STATUS', false],
    [
      200,
      '{"code":200,"error":null,"msg":"3 records were found","data":[{"conn_id":"a","conv',
      'WOLKVOX_MALFORMED_RESPONSE',
      true,
    ],
    [200, { code: 200, data: { conn_id: 'a' } }, 'WOLKVOX_MALFORMED_RESPONSE', true],
    [200, '<html>ok</html>', 'WOLKVOX_MALFORMED_RESPONSE', true],
    [200, '[]', 'WOLKVOX_MALFORMED_RESPONSE', true],
  ] as const)('%i %j becomes %s (retriable: %s)', async (status, body, code, retriable) => {
    const { client, agent } = mockHarness()
    reply(agent, status, body)
    const error = await failure(fetchDay(client))
    expect(error.code).toBe(code)
    expect(error.retriable).toBe(retriable)
    expect(error.details).toMatchObject({ report: 'chat_2', server: '0010', attempt: 1 })
    expect(error.message).toContain('20250211000000')
  })

  it('refuses a redirect without following it', async () => {
    const { client, agent } = mockHarness({ retry: { maxAttempts: 3 } })
    reply(agent, 302, '', { location: 'https://evil.example.com/steal' })
    const error = await failure(fetchDay(client))
    expect(error.code).toBe('WOLKVOX_REDIRECT_REFUSED')
    expect(error.retriable).toBe(false)
    expect(error.details).toMatchObject({ status: 302, location: 'https://evil.example.com/steal' })
    expect(
      agent
        .getCallHistory()!
        .calls()
        .map((call) => call.origin),
    ).toEqual([ORIGIN])
  })

  it('keeps no body text of a malformed response, only where parsing stopped', async () => {
    const { client, agent } = mockHarness()
    // V8's own message would quote this body: `Unexpected token 'A', "Ana Pérez…" is not valid JSON`.
    reply(agent, 200, 'Ana Pérez Quintero, 573001112233: <html>')
    const error = await failure(fetchDay(client))
    expect(error.code).toBe('WOLKVOX_MALFORMED_RESPONSE')
    expect(inspect(error, { depth: Infinity })).not.toContain('Pérez')
    // Byte offsets: a row that never closes is reported where the body ended (66 bytes, é is 2).
    reply(agent, 200, '{"code":200,"data":[{"conn_id":"c1","customer_name":"Ana Pérez" x')
    expect((await failure(fetchDay(client))).details.jsonErrorAt).toBe(66)
    reply(agent, 200, '{"code":200,"data":[{"conn_id":"c1","customer_name":"Ana Pérez" x}]}')
    expect((await failure(fetchDay(client))).details.jsonErrorAt).toBe(65)
    reply(agent, 200, '{"code":200,"data":[{"conn_id":"c1"')
    expect((await failure(fetchDay(client))).details.jsonErrorAt).toBe(35)
  })

  it('reports the upstream words, and Retry-After, in details', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 429, { code: 429, msg: 'Slow down' }, { 'retry-after': '12' })
    const error = await failure(fetchDay(client))
    expect(error.details).toMatchObject({
      status: 429,
      upstreamMessage: 'Slow down',
      retryAfterMs: 12_000,
    })
  })
})

describe('local validation', () => {
  it.each([
    ['start after end', { from: TO, to: FROM }],
    ['an invalid date', { from: new Date('nope'), to: TO }],
    ['more than 31 days', { from: FROM, to: new Date(FROM.getTime() + 31 * 86_400_000) }],
    ['a year past 9999', { from: FROM, to: new Date('+010000-01-01T00:00:00Z') }],
  ])('refuses %s before sending anything', async (_what, window) => {
    const { client, agent } = mockHarness()
    const error = await failure(client.fetchReport({ report: 'chat_2', ...window }))
    expect(error.code).toBe('WOLKVOX_REQUEST_INVALID')
    expect(error.retriable).toBe(false)
    expect(agent.getCallHistory()?.calls() ?? []).toHaveLength(0)
  })

  it('refuses an unknown report name', async () => {
    const { client } = mockHarness()
    const error = await failure(
      client.fetchReport({ report: 'chat_2&api=x' as 'chat_2', from: FROM, to: TO }),
    )
    expect(error.code).toBe('WOLKVOX_REQUEST_INVALID')
  })

  it('allows exactly 31 days counted with both ends, and a one-second window', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 404, { code: 404, msg: 'Validate dates entered' }, {}, 2)
    const to = new Date(FROM.getTime() + 31 * 86_400_000 - 1_000)
    await expect(client.fetchReport({ report: 'chat_2', from: FROM, to })).resolves.toMatchObject({
      status: 404,
    })
    await expect(
      client.fetchReport({ report: 'chat_2', from: FROM, to: FROM }),
    ).resolves.toMatchObject({ status: 404 })
  })
})

describe('construction', () => {
  it.each(['1.evil.com#', '1@evil.com', '../x'])(
    'refuses server %j with no request made',
    (server) => {
      const agent = new MockAgent({ enableCallHistory: true })
      agent.disableNetConnect()
      expect(() =>
        createWolkvoxClient({ server, token: new Secret(CANARY), dispatcher: agent }),
      ).toThrow(expect.objectContaining({ code: 'WOLKVOX_SERVER_INVALID' }))
      expect(agent.getCallHistory()?.calls() ?? []).toHaveLength(0)
    },
  )

  it('refuses plain http to anything but loopback, an unknown zone and nonsense numbers', () => {
    const token = new Secret(CANARY)
    expect(() =>
      createWolkvoxClient({ server: '1', token, baseUrl: 'http://example.com' }),
    ).toThrow(expect.objectContaining({ code: 'WOLKVOX_BASE_URL_INVALID' }))
    expect(() => createWolkvoxClient({ server: '1', token, timeZone: 'Nowhere/City' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
    expect(() => createWolkvoxClient({ server: '1', token, maxResponseBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
  })

  it('points at exactly wv{server}.wolkvox.com over https', () => {
    const client = createWolkvoxClient({ server: '3211', token: new Secret(CANARY) })
    clients.push(client)
    expect(client.endpoint).toBe('https://wv3211.wolkvox.com/api/v2/reports_manager.php')
    outputs.push(inspect(client, { depth: Infinity }), JSON.stringify(client))
  })
})

describe('retries', () => {
  it('retries a 5xx with jittered exponential backoff and succeeds', async () => {
    const { client, agent, sleeps } = mockHarness({ retry: { maxAttempts: 4, baseDelayMs: 1_000 } })
    reply(agent, 500, 'boom', {}, 2)
    reply(agent, 200, { code: 200, data: [chat('a', 1)] })
    const result = await fetchDay(client)
    expect(result.attempts).toBe(3)
    // random() is 0.5: three quarters of 1 s, then of 2 s.
    expect(sleeps).toEqual([750, 1_500])
  })

  it('reports every attempt to onAttempt', async () => {
    const events: unknown[] = []
    const { client, agent } = mockHarness({
      retry: { maxAttempts: 2 },
      onAttempt: (event) => events.push({ ...event, durationMs: 0 }),
    })
    reply(agent, 503, '')
    reply(agent, 200, { code: 200, data: [] })
    await fetchDay(client)
    expect(events).toEqual([
      {
        report: 'chat_2',
        attempt: 1,
        durationMs: 0,
        status: 503,
        code: 'WOLKVOX_SERVER_ERROR',
        bytes: 0,
      },
      { report: 'chat_2', attempt: 2, durationMs: 0, status: 200, code: null, bytes: 22 },
    ])
  })

  it('honours a Retry-After longer than the backoff', async () => {
    const { client, agent, sleeps } = mockHarness({ retry: { maxAttempts: 2 } })
    reply(agent, 429, { code: 429 }, { 'retry-after': '7' })
    reply(agent, 200, { code: 200, data: [] })
    await fetchDay(client)
    expect(sleeps).toEqual([7_000])
  })

  it('waits at least maintenanceDelayMs after a maintenance answer', async () => {
    const { client, agent, sleeps } = mockHarness({
      retry: { maxAttempts: 2, maintenanceDelayMs: 45_000 },
    })
    reply(agent, 403, '<html>mantenimiento</html>')
    reply(agent, 200, { code: 200, data: [] })
    await fetchDay(client)
    expect(sleeps).toEqual([45_000])
  })

  it('retries the simultaneous-calls limit', async () => {
    const { client, agent } = mockHarness({ retry: { maxAttempts: 2 } })
    reply(agent, 403, {
      code: 403,
      msg: 'EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)',
    })
    reply(agent, 200, { code: 200, data: [] })
    expect((await fetchDay(client)).attempts).toBe(2)
  })

  it.each([
    [403, { code: 403, msg: 'PLEASE VALIDATE TOKEN' }, 'WOLKVOX_TOKEN_INVALID'],
    [403, { code: 403, msg: 'TOKEN LIMIT EXCEEDED' }, 'WOLKVOX_QUOTA_EXCEEDED'],
    [401, { code: 401, msg: 'PLEASE ENTER THE WOLKVOX-TOKEN' }, 'WOLKVOX_TOKEN_MISSING'],
    [400, { code: 400, msg: 'SOME PARAMETERS ARE REQUIRED' }, 'WOLKVOX_BAD_REQUEST'],
  ])('never retries %i %j', async (status, body, code) => {
    const { client, agent, sleeps, calls } = mockHarness({ retry: { maxAttempts: 5 } })
    reply(agent, status, body, {}, 5)
    expect((await failure(fetchDay(client))).code).toBe(code)
    expect(calls()).toBe(1)
    expect(sleeps).toEqual([])
  })

  it('stops after maxAttempts with the last error', async () => {
    const { client, agent, calls, logs } = mockHarness({ retry: { maxAttempts: 3 } })
    reply(agent, 502, 'bad gateway', {}, 5)
    const error = await failure(fetchDay(client))
    expect(error).toMatchObject({
      code: 'WOLKVOX_SERVER_ERROR',
      details: { attempt: 3, status: 502 },
    })
    expect(calls()).toBe(3)
    expect(logs.filter((line) => line.includes('retrying'))).toHaveLength(2)
  })

  it('starts no retry past maxElapsedMs', async () => {
    const { client, agent, calls, sleeps } = mockHarness({
      retry: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 10_000, maxElapsedMs: 25_000 },
    })
    reply(agent, 500, 'x', {}, 10)
    await failure(fetchDay(client))
    expect(sleeps).toEqual([7_500, 7_500, 7_500])
    expect(calls()).toBe(4)
  })

  it('never sleeps past the deadline: a long Retry-After ends the call at once', async () => {
    const { client, agent, clock, calls, sleeps } = mockHarness({ retry: { maxAttempts: 5 } })
    reply(agent, 429, { code: 429 }, { 'retry-after': '30' }, 5)
    const error = await failure(fetchDay(client, { deadline: clock.ms + 10_000 }))
    expect(error).toMatchObject({ code: 'WOLKVOX_RATE_LIMITED', details: { retryAfterMs: 30_000 } })
    expect(calls()).toBe(1)
    expect(sleeps).toEqual([])
  })

  it('starts nothing when the deadline has passed', async () => {
    const { client, clock, calls } = mockHarness()
    const error = await failure(fetchDay(client, { deadline: clock.ms - 1 }))
    expect(error.code).toBe('WOLKVOX_DEADLINE_EXCEEDED')
    expect(calls()).toBe(0)
  })

  it('stops waiting when the caller aborts during a backoff', async () => {
    const controller = new AbortController()
    const agent = new MockAgent()
    agent.disableNetConnect()
    const client = createWolkvoxClient({
      server: '0010',
      token: new Secret(CANARY),
      dispatcher: agent,
      retry: { maxAttempts: 3, baseDelayMs: 60_000 },
    })
    clients.push(client)
    reply(agent, 500, 'x', {}, 3)
    const started = Date.now()
    const pending = failure(fetchDay(client, { signal: controller.signal }))
    setTimeout(() => controller.abort(new Error(`stop ${CANARY}`)), 50)
    const error = await pending
    expect(error.code).toBe('WOLKVOX_ABORTED')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('does not start when the signal has already fired', async () => {
    const { client, calls } = mockHarness()
    const error = await failure(fetchDay(client, { signal: AbortSignal.abort() }))
    expect(error.code).toBe('WOLKVOX_ABORTED')
    expect(calls()).toBe(0)
  })
})

describe('over real HTTP', () => {
  async function serve(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<string> {
    const server = createServer(handler)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  function realClient(baseUrl: string, options: Partial<WolkvoxClientOptions> = {}): WolkvoxClient {
    const client = createWolkvoxClient({
      server: '0010',
      token: new Secret(CANARY),
      baseUrl,
      retry: { maxAttempts: 1 },
      logger: {
        debug: (msg, fields) => outputs.push(inspect({ msg, ...fields }, { depth: Infinity })),
        warn: (msg, fields) => outputs.push(inspect({ msg, ...fields }, { depth: Infinity })),
      },
      ...options,
    })
    clients.push(client)
    return client
  }

  it('times out waiting for headers from a silent server', async () => {
    const url = await serve(() => undefined)
    const error = await failure(fetchDay(realClient(url, { headersTimeoutMs: 200 })))
    expect(error).toMatchObject({
      code: 'WOLKVOX_TIMEOUT',
      retriable: true,
      details: { phase: 'headers' },
    })
  })

  it('times out when the body stalls', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"code":200,"data":[')
    })
    const error = await failure(fetchDay(realClient(url, { bodyTimeoutMs: 200 })))
    expect(error).toMatchObject({ code: 'WOLKVOX_TIMEOUT', details: { phase: 'body' } })
  })

  it('abandons a body that trickles forever within attemptTimeoutMs', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const timer = setInterval(() => res.write(' '), 20)
      res.on('close', () => clearInterval(timer))
      res.write('{"code":200,"data":[')
    })
    const started = Date.now()
    const error = await failure(fetchDay(realClient(url, { attemptTimeoutMs: 300 })))
    expect(error.code).toBe('WOLKVOX_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('waits out the upstream call limit before retrying an abandoned call', async () => {
    const starts: number[] = []
    const url = await serve((_req, res) => {
      starts.push(Date.now())
      if (starts.length === 2) res.end('{"code":200,"data":[]}')
    })
    const client = realClient(url, {
      headersTimeoutMs: 100,
      upstreamCallLimitMs: 600,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    })
    expect((await fetchDay(client)).attempts).toBe(2)
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(550)
  })

  it('aborts the attempt in flight at the deadline', async () => {
    const url = await serve(() => undefined)
    const started = Date.now()
    const error = await failure(fetchDay(realClient(url), { deadline: Date.now() + 200 }))
    expect(error.code).toBe('WOLKVOX_DEADLINE_EXCEEDED')
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('follows a deadline that moves (a renewed lease), and aborts once it stops moving', async () => {
    const body = JSON.stringify({ code: 200, data: [chat('a', 1)] })
    const url = await serve((_req, res) => {
      setTimeout(() => res.end(body), 600)
      res.writeHead(200, { 'content-type': 'application/json' })
    })
    // Renewed every 100 ms by 200 ms: the call outlives the first deadline by far.
    let deadline = Date.now() + 200
    const renewals = setInterval(() => (deadline += 100), 100)
    try {
      const result = await fetchDay(realClient(url), { deadline: () => deadline })
      expect(result.rowCount).toBe(1)
    } finally {
      clearInterval(renewals)
    }
    deadline = Date.now() + 200
    const error = await failure(fetchDay(realClient(url), { deadline: () => deadline }))
    expect(error.code).toBe('WOLKVOX_DEADLINE_EXCEEDED')
  })

  it('aborts the attempt in flight when the caller aborts', async () => {
    const url = await serve(() => undefined)
    const error = await failure(fetchDay(realClient(url), { signal: AbortSignal.timeout(100) }))
    expect(error.code).toBe('WOLKVOX_ABORTED')
  })

  it('abandons a streamed body as soon as it passes maxResponseBytes', async () => {
    let written = 0
    let closedEarly = false
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"code":200,"data":[{"conn_id":"x","conversation":[{"message":"')
      const chunk = 'A'.repeat(64 * 1024)
      const pump = (): void => {
        while (written < 50 * 1024 * 1024) {
          written += chunk.length
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end('"}]}]}')
      }
      res.on('close', () => {
        closedEarly = !res.writableFinished
      })
      pump()
    })
    const error = await failure(fetchDay(realClient(url, { maxResponseBytes: 1024 * 1024 })))
    expect(error).toMatchObject({ code: 'WOLKVOX_RESPONSE_TOO_LARGE', retriable: false })
    expect(error.details.receivedBytes).toBeLessThan(2 * 1024 * 1024)
    await expect.poll(() => closedEarly).toBe(true)
    expect(written).toBeLessThan(50 * 1024 * 1024)
  })

  it('refuses a body whose announced length is over maxResponseBytes without reading it', async () => {
    const url = await serve((_req, res) => {
      const body = JSON.stringify({ code: 200, data: [chat('a', 50)] })
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      })
      res.end(body)
    })
    const error = await failure(fetchDay(realClient(url, { maxResponseBytes: 1_000 })))
    expect(error.code).toBe('WOLKVOX_RESPONSE_TOO_LARGE')
    expect(error.details.announcedBytes).toBeGreaterThan(1_000)
  })

  it('streams: the first items go out while the body is still arriving', async () => {
    // The server sends the rest only once the client handed out the first group: a client that
    // waited for the whole body would never finish.
    let firstGroup: () => void = () => undefined
    const handedOut = new Promise<void>((resolve) => (firstGroup = resolve))
    const data = Array.from({ length: 30 }, (_, i) => chat(`c${i}`, 50))
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write(
        `{"code":200,"data":[${data
          .slice(0, 25)
          .map((c) => JSON.stringify(c))
          .join(',')}`,
      )
      void handedOut.then(() =>
        res.end(
          `,${data
            .slice(25)
            .map((c) => JSON.stringify(c))
            .join(',')}]}`,
        ),
      )
    })
    const seen: string[] = []
    const result = await realClient(url).fetchReport({
      report: 'chat_2',
      from: FROM,
      to: TO,
      stream: {
        onItems: (items) => {
          seen.push(...items.map((item) => (item as { conn_id: string }).conn_id))
          firstGroup()
          return Promise.resolve()
        },
        firstMessages: 1_000,
      },
    })
    expect(seen).toEqual(data.map((_, i) => `c${i}`))
    expect(result).toMatchObject({ rowCount: 30, messageCount: 1_500 })
  })

  it('streams with back-pressure: nothing more is read while a group is being handled', async () => {
    let written = 0
    let waitingForDrain = false
    const row = JSON.stringify(chat('r', 20))
    const total = 40 * 1024 * 1024
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"code":200,"data":[')
      const block = Buffer.from(`${row},`.repeat(Math.ceil((64 * 1024) / (row.length + 1))))
      const pump = (): void => {
        waitingForDrain = false
        while (written < total) {
          written += block.length
          if (!res.write(block)) {
            waitingForDrain = true
            res.once('drain', pump)
            return
          }
        }
        res.end(`${row}]}`)
      }
      pump()
    })
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let groups = 0
    const call = realClient(url, { rowCap: 10_000_000 }).fetchReport({
      report: 'chat_2',
      from: FROM,
      to: TO,
      stream: {
        onItems: async () => {
          groups++
          if (groups === 1) await held
        },
      },
    })
    // The first group is held: the socket fills up and the server waits, far from the end.
    await expect.poll(() => groups === 1 && waitingForDrain, { timeout: 10_000 }).toBe(true)
    expect(written).toBeLessThan(total / 4)
    release()
    const result = await call
    expect(written).toBeGreaterThanOrEqual(total)
    expect(result.bytes).toBeGreaterThan(total)
  })

  it('reports a connection cut mid-body as a retriable network error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"code":200,"data":[', () => res.socket?.destroy())
    })
    const error = await failure(fetchDay(realClient(url)))
    expect(error).toMatchObject({ code: 'WOLKVOX_NETWORK_ERROR', retriable: true })
  })

  it('reports a refused connection as a retriable network error', async () => {
    const url = await serve(() => undefined)
    const server = servers.pop()!
    await new Promise((resolve) => server.close(resolve))
    const error = await failure(fetchDay(realClient(url)))
    expect(error).toMatchObject({ code: 'WOLKVOX_NETWORK_ERROR', retriable: true })
  })

  it('verifies TLS: a self-signed certificate is refused and not retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wolkvox-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      )
      let requests = 0
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => {
          requests += 1
          res.end('{"code":200,"data":[]}')
        },
      )
      servers.push(server)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
      const error = await failure(
        fetchDay(realClient(url, { retry: { maxAttempts: 3, baseDelayMs: 1 } })),
      )
      expect(error).toMatchObject({ code: 'WOLKVOX_TLS_ERROR', retriable: false })
      expect(requests).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the token', () => {
  it('is redacted when the upstream echoes it', async () => {
    const { client, agent } = mockHarness()
    reply(agent, 403, { code: 403, msg: `PLEASE VALIDATE TOKEN ${CANARY}` })
    const error = await failure(fetchDay(client))
    expect(error.details.upstreamMessage).toBe('PLEASE VALIDATE TOKEN [redacted]')
  })

  it('is redacted from third-party errors that quote the request headers', async () => {
    const { client, agent } = mockHarness()
    // MockAgent's "not matched" error lists the request headers, token included.
    agent
      .get(ORIGIN)
      .intercept({ path: reportPath, headers: { 'wolkvox-token': 'other' } })
      .reply(200, '')
    const error = await failure(fetchDay(client))
    expect(error.code).toBe('WOLKVOX_NETWORK_ERROR')
    expect(inspect(error.cause)).toContain('[redacted]')
  })

  it('is redacted from an abort reason that holds it', async () => {
    const { client } = mockHarness()
    const error = await failure(
      fetchDay(client, { signal: AbortSignal.abort(new Error(`why ${CANARY}`)) }),
    )
    expect(inspect(error, { depth: Infinity })).toContain('why [redacted]')
  })
})
