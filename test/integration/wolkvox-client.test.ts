import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Secret } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import {
  createWolkvoxClient,
  wallClockToEpochMs,
  type AttemptEvent,
  type ChatRow,
  type WolkvoxClient,
  type WolkvoxClientOptions,
} from '@wolkvox-chat-stream/wolkvox-client'
import {
  startSimulator,
  type ChatItem,
  type RunningSimulator,
  type Selection,
  type SimulatorOptions,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { waitFor } from '../support/wait-for.js'
import {
  canaryLeaks,
  canaryToken,
  captureLogger,
  capturedOutput,
  keepOutput,
  simulatorNowMs,
} from '../support/wolkvox.js'

const zone = 'America/Bogota'
const at = (local: string): Date => new Date(wallClockToEpochMs(local, zone)!)
const DAY = { from: at('20250227000000'), to: at('20250227235959') }
const HOUR = { from: at('20250227100000'), to: at('20250227105959') }

const simulators: RunningSimulator[] = []
const clients: WolkvoxClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(simulators.splice(0).map((sim) => sim.close()))
})

afterAll(() => {
  expect(capturedOutput.length).toBeGreaterThan(50)
  expect(canaryLeaks()).toEqual([])
})

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    tokens: [canaryToken],
    now: () => simulatorNowMs,
    historyMs: 3 * 86_400_000,
    logger: captureLogger('wolkvox-simulator'),
    ...options,
  })
  simulators.push(sim)
  return sim
}

function client(sim: RunningSimulator, options: Partial<WolkvoxClientOptions> = {}): WolkvoxClient {
  const created = createWolkvoxClient({
    server: '0010',
    token: new Secret(canaryToken),
    baseUrl: sim.url,
    timeZone: zone,
    logger: captureLogger('wolkvox-client'),
    upstreamCallLimitMs: 0,
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, maintenanceDelayMs: 50 },
    ...options,
  })
  clients.push(created)
  return created
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    keepOutput(error)
    expect(error).toBeInstanceOf(AppError)
    return error as AppError
  }
  throw new Error('expected the call to fail')
}

/** A row back in the upstream's shape: every value was a string, so this is exact. */
function raw(row: ChatRow): Record<string, unknown> {
  const strings = (fields: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(fields).filter(([key, value]) => value !== null && key !== 'extra'),
    )
  return {
    ...strings({
      conn_id: row.conn_id,
      agent_name: row.agent_name,
      customer_name: row.customer_name,
    }),
    ...row.extra,
    conversation: row.conversation.map((message) => ({
      ...strings({ ...message }),
      ...message.extra,
    })),
  }
}

/** Every message of some items, as `conn_id` + its JSON, sorted: a multiset to compare. */
const messageSet = (items: readonly Record<string, unknown>[]): string[] =>
  items
    .flatMap((item) =>
      (item.conversation as Record<string, unknown>[]).map((m) =>
        JSON.stringify([
          item.conn_id,
          m.date,
          m.from,
          m.from_name,
          m.to_name,
          m.message,
          m.feeling,
          m.customer_phone,
        ]),
      ),
    )
    .sort()

const sortedItems = (items: readonly Record<string, unknown>[]): unknown[] =>
  [...items].sort((a, b) => String(a.conn_id).localeCompare(String(b.conn_id)))

const fetchWindow = (c: WolkvoxClient, window: { from: Date; to: Date }, extra = {}) =>
  c.fetchReport({ report: 'chat_2', ...window, ...extra })

describe.each(['closing', 'message'] as const)('selection by %s time', (selection: Selection) => {
  it('returns exactly the ground truth of a day', async () => {
    const sim = await simulator({ selection })
    const truth = sim.truth(DAY)
    const result = await fetchWindow(client(sim), DAY)
    expect(result).toMatchObject({
      status: 200,
      rowCount: truth.chatCount,
      messageCount: truth.messageCount,
      hitRowCap: false,
      invalidRows: [],
      window: { dateIni: '20250227000000', dateEnd: '20250227235959' },
    })
    expect(result.rows.map(raw)).toEqual(truth.data)
  })

  it('adjacent windows, each next one starting a second later, add up to the whole', async () => {
    const sim = await simulator({ selection })
    const c = client(sim)
    const first = await fetchWindow(c, { from: DAY.from, to: at('20250227113059') })
    const second = await fetchWindow(c, { from: at('20250227113100'), to: DAY.to })
    const whole = sim.truth(DAY)
    expect(messageSet([...first.rows, ...second.rows].map(raw))).toEqual(messageSet(whole.data))
    if (selection === 'closing') {
      // A chat closes once, so it is in exactly one of the two windows, whole.
      expect(sortedItems([...first.rows, ...second.rows].map(raw))).toEqual(sortedItems(whole.data))
    }
  })

  it('reports a response at the row cap, and splitting the window recovers everything', async () => {
    const sim = await simulator({ selection, rowCap: 700 })
    const c = client(sim, { rowCap: 700 })
    const whole = await fetchWindow(c, DAY)
    expect(whole).toMatchObject({ hitRowCap: true, messageCount: 700 })
    const rows: ChatRow[] = []
    let calls = 0
    const collect = async (from: Date, to: Date): Promise<void> => {
      calls += 1
      const result = await fetchWindow(c, { from, to })
      if (!result.hitRowCap) {
        rows.push(...result.rows)
        return
      }
      const middle = new Date(Math.floor((from.getTime() + to.getTime()) / 2_000) * 1_000)
      await collect(from, middle)
      await collect(new Date(middle.getTime() + 1_000), to)
    }
    await collect(DAY.from, DAY.to)
    expect(calls).toBeGreaterThan(3)
    expect(messageSet(rows.map(raw))).toEqual(messageSet(sim.truth(DAY).data))
  })

  it('returns an empty result for a window with no data', async () => {
    const sim = await simulator({ selection })
    const result = await fetchWindow(client(sim), {
      from: at('20250210000000'),
      to: at('20250210235959'),
    })
    expect(result).toMatchObject({ status: 404, rows: [], rowCount: 0, messageCount: 0 })
  })
})

describe('the row cap counted in chats', () => {
  it('is flagged too', async () => {
    const sim = await simulator({ rowCap: 30, rowCapUnit: 'chat' })
    const result = await fetchWindow(client(sim, { rowCap: 30 }), DAY)
    expect(result).toMatchObject({ rowCount: 30, hitRowCap: true })
  })
})

describe('upstream errors', () => {
  it('an invalid token fails at once and is never retried', async () => {
    const sim = await simulator({ tokens: ['another-token'] })
    const error = await failure(fetchWindow(client(sim, { retry: { maxAttempts: 5 } }), HOUR))
    expect(error).toMatchObject({ code: 'WOLKVOX_TOKEN_INVALID', retriable: false })
    expect(sim.calls()).toHaveLength(1)
  })

  it('an empty token reaches the upstream as no token', async () => {
    const sim = await simulator()
    const c = createWolkvoxClient({
      server: '0010',
      token: new Secret(''),
      baseUrl: sim.url,
      retry: { maxAttempts: 3 },
    })
    clients.push(c)
    expect((await failure(fetchWindow(c, HOUR))).code).toBe('WOLKVOX_TOKEN_MISSING')
    expect(sim.calls()).toHaveLength(1)
  })

  it('the daily quota stops calls until tomorrow', async () => {
    const sim = await simulator({ dailyQuota: 1 })
    const c = client(sim, { retry: { maxAttempts: 5 } })
    await fetchWindow(c, HOUR)
    const error = await failure(fetchWindow(c, HOUR))
    expect(error).toMatchObject({ code: 'WOLKVOX_QUOTA_EXCEEDED', retriable: false })
    expect(sim.calls()).toHaveLength(2)
  })

  it('a second simultaneous caller is refused, backs off and succeeds', async () => {
    const sim = await simulator({ concurrentLimit: 1, latencyMs: 300 })
    const events: AttemptEvent[] = []
    const options = {
      onAttempt: (event: AttemptEvent) => events.push(event),
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 400 },
    }
    const [a, b] = await Promise.all([
      fetchWindow(client(sim, options), HOUR),
      fetchWindow(client(sim, options), HOUR),
    ])
    expect(a.messageCount).toBe(b.messageCount)
    expect(
      events.filter((event) => event.code === 'WOLKVOX_CONCURRENT_LIMIT').length,
    ).toBeGreaterThanOrEqual(1)
    expect(sim.calls().filter((call) => call.status === 403)).toHaveLength(
      events.filter((e) => e.code === 'WOLKVOX_CONCURRENT_LIMIT').length,
    )
  })

  it('host injection is refused at construction, with no request made', () => {
    return simulator().then((sim) => {
      for (const server of ['1.evil.com#', '1@evil.com', '../x']) {
        expect(() =>
          createWolkvoxClient({ server, token: new Secret(canaryToken), baseUrl: sim.url }),
        ).toThrow(expect.objectContaining({ code: 'WOLKVOX_SERVER_INVALID' }))
      }
      expect(sim.calls()).toEqual([])
    })
  })
})

describe('every fault mode', () => {
  it('5xx is retried with backoff until it clears', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'server-error', status: 502, count: 2 })
    const result = await fetchWindow(client(sim), HOUR)
    expect(result.attempts).toBe(3)
    expect(result.rows.map(raw)).toEqual(sim.truth(HOUR).data)
    expect(sim.calls().map((call) => call.status)).toEqual([502, 502, 200])
  })

  it('5xx on every call ends after maxAttempts with WOLKVOX_SERVER_ERROR', async () => {
    const sim = await simulator({ fault: { kind: 'server-error', status: 503 } })
    const error = await failure(fetchWindow(client(sim), HOUR))
    expect(error).toMatchObject({
      code: 'WOLKVOX_SERVER_ERROR',
      retriable: true,
      details: { status: 503, attempt: 3 },
    })
    expect(sim.calls()).toHaveLength(3)
  })

  it('429 waits for Retry-After before the next call', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'rate-limited', retryAfterSeconds: 1 })
    const result = await fetchWindow(client(sim), HOUR)
    expect(result.attempts).toBe(2)
    const [first, second] = sim.calls()
    expect(second!.startedAtMs - first!.startedAtMs).toBeGreaterThanOrEqual(990)
  })

  it('403 maintenance waits the long maintenance delay, then succeeds', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'maintenance' })
    const result = await fetchWindow(
      client(sim, { retry: { maxAttempts: 2, baseDelayMs: 1, maintenanceDelayMs: 400 } }),
      HOUR,
    )
    expect(result.attempts).toBe(2)
    const [first, second] = sim.calls()
    expect(second!.startedAtMs - first!.startedAtMs).toBeGreaterThanOrEqual(400)
  })

  it('403 maintenance on every call surfaces as WOLKVOX_MAINTENANCE', async () => {
    const sim = await simulator({ fault: { kind: 'maintenance' } })
    const error = await failure(
      fetchWindow(client(sim, { retry: { maxAttempts: 2, maintenanceDelayMs: 10 } }), HOUR),
    )
    expect(error).toMatchObject({ code: 'WOLKVOX_MAINTENANCE', retriable: true })
  })

  it('a slow trickle is cut at the attempt timeout, and the upstream sees the call end', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'slow', chunkBytes: 16, intervalMs: 50 })
    const started = Date.now()
    const error = await failure(
      fetchWindow(client(sim, { attemptTimeoutMs: 500, retry: { maxAttempts: 1 } }), HOUR),
    )
    expect(error).toMatchObject({ code: 'WOLKVOX_TIMEOUT', retriable: true })
    expect(Date.now() - started).toBeLessThan(5_000)
    const [call] = await waitFor(() =>
      sim.calls()[0]?.endedAtMs !== null ? sim.calls() : undefined,
    )
    expect(call).toMatchObject({ outcome: 'aborted', fault: 'slow' })
  })

  it('a slow answer that finishes within the timeouts is read whole', async () => {
    const sim = await simulator()
    const small = { from: at('20250227100000'), to: at('20250227100159') }
    const truth = sim.truth(small)
    const size = JSON.stringify(truth.data).length
    sim.injectFaults({ kind: 'slow', chunkBytes: Math.ceil(size / 3), intervalMs: 100 })
    const result = await fetchWindow(client(sim, { bodyTimeoutMs: 2_000 }), small)
    expect(result.rows.map(raw)).toEqual(truth.data)
  })

  it('no answer times out; the retry waits out the upstream call limit and never overlaps', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'no-answer' })
    const result = await fetchWindow(
      client(sim, { headersTimeoutMs: 200, upstreamCallLimitMs: 600 }),
      HOUR,
    )
    expect(result.attempts).toBe(2)
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    const [first, second] = sim.calls()
    expect(first).toMatchObject({ outcome: 'aborted', fault: 'no-answer' })
    expect(second!.startedAtMs - first!.startedAtMs).toBeGreaterThanOrEqual(590)
    expect(sim.overlaps()).toEqual([])
  })

  it('no answer on every call ends with WOLKVOX_TIMEOUT', async () => {
    const sim = await simulator({ fault: { kind: 'no-answer' } })
    const error = await failure(
      fetchWindow(client(sim, { headersTimeoutMs: 150, retry: { maxAttempts: 2 } }), HOUR),
    )
    expect(error).toMatchObject({ code: 'WOLKVOX_TIMEOUT', details: { phase: 'headers' } })
  })

  it('truncated JSON is a malformed response, retried', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'truncated' })
    expect((await fetchWindow(client(sim), HOUR)).attempts).toBe(2)
    sim.injectFaults({ kind: 'truncated' })
    const error = await failure(fetchWindow(client(sim, { retry: { maxAttempts: 1 } }), HOUR))
    expect(error).toMatchObject({ code: 'WOLKVOX_MALFORMED_RESPONSE', retriable: true })
  })

  it('wrong types are kept as JSON text', async () => {
    const sim = await simulator()
    const truth = sim.truth(HOUR)
    sim.injectFaults({ kind: 'wrong-types' })
    const result = await fetchWindow(client(sim), HOUR)
    expect(result.attempts).toBe(1)
    const [row] = result.rows
    const expected = truth.data[0] as ChatItem
    expect(row).toMatchObject({
      conn_id: expected.conn_id,
      agent_name: JSON.stringify({ name: expected.agent_name }),
      extra: { priority: '0', tags: '["sim","wrong-types"]' },
    })
    expect(row!.conversation.map((m) => m.customer_id)).toEqual(
      expected.conversation.map((m) => m.customer_id),
    )
    expect(row!.conversation.every((m) => m.feeling === null && m.extra.attachments === '[]')).toBe(
      true,
    )
  })

  it('a wrong shape is a malformed response', async () => {
    const sim = await simulator({ fault: { kind: 'wrong-shape' } })
    const error = await failure(fetchWindow(client(sim, { retry: { maxAttempts: 1 } }), HOUR))
    expect(error.code).toBe('WOLKVOX_MALFORMED_RESPONSE')
  })

  it('a huge body is abandoned at maxResponseBytes with bounded memory', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'huge', bytes: 300 * 1024 * 1024 })
    const before = process.memoryUsage().rss
    const error = await failure(
      fetchWindow(client(sim, { maxResponseBytes: 8 * 1024 * 1024 }), HOUR),
    )
    expect(error).toMatchObject({ code: 'WOLKVOX_RESPONSE_TOO_LARGE', retriable: false })
    expect(error.details.receivedBytes).toBeLessThan(9 * 1024 * 1024)
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024)
    const [call] = await waitFor(() =>
      sim.calls()[0]?.endedAtMs !== null ? sim.calls() : undefined,
    )
    expect(call).toMatchObject({ outcome: 'aborted', fault: 'huge' })
    expect(sim.calls()).toHaveLength(1)
  })

  it('a connection cut mid-body is retried', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'disconnect' })
    const result = await fetchWindow(client(sim), HOUR)
    expect(result.attempts).toBe(2)
    expect(result.rows.map(raw)).toEqual(sim.truth(HOUR).data)
  })

  it('a redirect is refused, not followed', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'redirect' })
    const error = await failure(fetchWindow(client(sim), HOUR))
    expect(error).toMatchObject({ code: 'WOLKVOX_REDIRECT_REFUSED', details: { status: 302 } })
    expect(sim.calls()).toHaveLength(1)
  })
})

describe("the caller's deadline and signal", () => {
  it('a call in flight is aborted at the deadline, and the upstream sees it end', async () => {
    const sim = await simulator({ fault: { kind: 'no-answer' } })
    const started = Date.now()
    const error = await failure(fetchWindow(client(sim), HOUR, { deadline: Date.now() + 300 }))
    expect(error).toMatchObject({ code: 'WOLKVOX_DEADLINE_EXCEEDED' })
    expect(Date.now() - started).toBeLessThan(2_000)
    const [call] = await waitFor(() =>
      sim.calls()[0]?.endedAtMs !== null ? sim.calls() : undefined,
    )
    expect(call!.endedAtMs!).toBeLessThan(started + 2_000)
    expect(sim.calls()).toHaveLength(1)
  })

  it('no retry sleeps past the deadline', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'rate-limited', retryAfterSeconds: 30 })
    const started = Date.now()
    const error = await failure(
      fetchWindow(client(sim, { retry: { maxAttempts: 5 } }), HOUR, {
        deadline: Date.now() + 2_000,
      }),
    )
    expect(error.code).toBe('WOLKVOX_RATE_LIMITED')
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(sim.calls()).toHaveLength(1)
  })

  it('an AbortSignal abandons the call', async () => {
    const sim = await simulator({ fault: { kind: 'no-answer' } })
    const error = await failure(
      fetchWindow(client(sim), HOUR, { signal: AbortSignal.timeout(150) }),
    )
    expect(error.code).toBe('WOLKVOX_ABORTED')
  })
})

describe('one call per token', () => {
  it('sequential calls through faults and retries never overlap on the upstream', async () => {
    const sim = await simulator({ latencyMs: 20 })
    sim.injectFaults(
      { kind: 'server-error' },
      { kind: 'no-answer' },
      { kind: 'truncated' },
      { kind: 'disconnect' },
      { kind: 'rate-limited', retryAfterSeconds: 0 },
    )
    const c = client(sim, {
      headersTimeoutMs: 200,
      upstreamCallLimitMs: 250,
      retry: { maxAttempts: 6, baseDelayMs: 5 },
    })
    for (let hour = 8; hour < 12; hour++) {
      const h = String(hour).padStart(2, '0')
      await fetchWindow(c, { from: at(`20250227${h}0000`), to: at(`20250227${h}5959`) })
    }
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    expect(sim.calls().length).toBeGreaterThanOrEqual(9)
    expect(sim.overlaps()).toEqual([])
  })
})

describe('the token', () => {
  it('never appears in results, errors, logs or the simulator record', async () => {
    const sim = await simulator()
    const result = await fetchWindow(client(sim), HOUR)
    keepOutput({ ...result, rows: result.rows.slice(0, 3) })
    keepOutput(sim.calls())
    keepOutput(client(sim))
    expect(capturedOutput.some((line) => line.includes('"name":"wolkvox-client"'))).toBe(true)
    expect(canaryLeaks()).toEqual([])
  })
})
