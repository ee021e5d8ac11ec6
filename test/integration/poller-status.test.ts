/*
 * `GET /status` and `GET /status/servers` of a poller with 120 operations: the service of `run`
 * in this process (not started, so nothing polls: the tokens are fake and the upstream is a port
 * where nothing listens), its routes on a real HTTP port, on a private redis-server whose state is
 * seeded so the operations' states differ. The summary's counts are exact, the pages cover every
 * operation once in the documented order, the state filter and the limits hold, `?server=` is
 * unchanged, and `status --summary` prints the same summary. The time and Redis commands of one
 * answer are printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  type HttpServer,
} from '@wolkvox-chat-stream/observability'
import {
  bindingKeys,
  createBullSchedule,
  createPollerRuntime,
  createPollerService,
  createStatusRouter,
  OPERATION_STATES,
  pollerStatusSource,
  readPollerConfig,
  type FleetSummary,
  type OperationState,
  type PollerRuntime,
  type ServerList,
  type StatusPage,
} from '@wolkvox-chat-stream/poller'
import { createRedis, type Redis } from '@wolkvox-chat-stream/redis'
import { runPoller } from '../support/poller-service-harness.js'

const kafkaBrokers = inject('kafkaBrokers')
const OPERATIONS = 120
const HOUR = 3_600_000
/** POLL_INTERVAL 1h, POLL_SETTLE_LAG 2m: `lagging` beyond 3 h 2 min. */
const LAG_THRESHOLD_S = 120 + 3 * 3600

/** What each operation is seeded as, by its index. */
function seededState(i: number): OperationState {
  if (i < 3) return 'checkpoint_missing'
  if (i < 8) return 'paused'
  if (i < 16) return 'failing' // a failed live poll (i < 14) or a stuck backfill window
  if (i < 26) return 'lagging'
  if (i < 66) return 'ok'
  return 'never_polled'
}

describe('poller status at 120 operations', () => {
  let redisServer: RedisServer
  let redis: Redis
  let runtime: PollerRuntime
  let schedule: ReturnType<typeof createBullSchedule>
  let http: HttpServer
  let base: string
  let env: Record<string, string>
  const servers = Array.from({ length: OPERATIONS }, (_, i) => String(700_000 + i))
  const stateOf = new Map(servers.map((s, i) => [s, seededState(i)]))
  let quotaUsed = 0
  let maxLagServer = ''

  beforeAll(async () => {
    redisServer = await startRedisServer()
    const dir = mkdtempSync(join(tmpdir(), 'poller-status-'))
    env = {
      WOLKVOX_OPERATIONS_FILE: join(dir, 'operations.json'),
      // Nothing listens there, and nothing is polled: the service is not started.
      WOLKVOX_BASE_URL: 'http://127.0.0.1:9',
      KAFKA_BROKERS: kafkaBrokers,
      REDIS_URL: redisServer.url,
      POLL_INTERVAL: '1h',
      POLL_SETTLE_LAG: '2m',
      POLL_STUCK_AFTER: '3',
      LOG_LEVEL: 'warn',
    }
    writeFileSync(
      env.WOLKVOX_OPERATIONS_FILE!,
      JSON.stringify(servers.map((server) => ({ server, tokenEnv: `TOKEN_${server}` }))),
    )
    for (const server of servers) env[`TOKEN_${server}`] = `fake-status-token-${server}`
    const config = readPollerConfig(env)
    const logger = createLogger({ name: 'poller-status-test', level: 'fatal' })
    runtime = await createPollerRuntime(
      config,
      logger,
      createMetricsRegistry({ collectDefaultMetrics: false }),
    )
    redis = createRedis(redisServer.url, { name: 'poller-status-test' })
    const connection = createRedis(redisServer.url, { role: 'blocking', name: 'status-bull' })
    schedule = createBullSchedule({ connection, concurrency: 1, onError: () => undefined })
    // As `run` wires it (main.ts), but never started: no scheduler, no worker, no poll.
    const service = createPollerService({ runtime, schedule })
    const routes = createStatusRouter(pollerStatusSource(service, runtime))
    http = createHttpServer({
      port: 0,
      registry: createMetricsRegistry({ collectDefaultMetrics: false }),
      routes: (req, res) => routes(req, res, undefined),
    })
    base = `http://127.0.0.1:${(await http.listen()).port}`

    // The seeds, through the poller's own stores where it has one.
    const now = Date.now()
    const watermarkKey = (server: string) =>
      runtime
        .handle(config.operations.find((o) => o.server === server)!)
        .lock.keys.state('watermark.chat_2')
    for (const [i, operation] of config.operations.entries()) {
      const { store, tokenHash } = runtime.handle(operation)
      const state = seededState(i)
      const polled = state !== 'never_polled'
      const lagMs = state === 'lagging' ? 4 * HOUR + i * 60_000 : 5 * 60_000
      if (polled && state !== 'paused') {
        await redis.hset(watermarkKey(operation.server), 'value', String(now - lagMs))
        await store.recordSuccess({
          atMs: now - 60_000,
          purpose: 'live',
          window: null,
          published: 3,
        })
      }
      if (state === 'lagging') maxLagServer = operation.server
      if (state === 'checkpoint_missing') {
        await redis.hset(bindingKeys(operation.server, 'chat_2').missing, {
          watermarkMs: String(now - lagMs),
          reason: 'missing',
          sinceMs: String(now - 1000),
          cluster: '',
        })
      }
      if (state === 'paused')
        await store.pause({
          reason: 'WOLKVOX_TOKEN_INVALID',
          untilMs: now + HOUR,
          sinceMs: now,
          token: tokenHash,
        })
      if (state === 'failing') {
        const purpose = i < 14 ? 'live' : 'backfill'
        for (let n = 0; n < (purpose === 'live' ? 1 : 3); n++)
          await store.recordFailure({
            atMs: now - 30_000,
            purpose,
            code: 'WOLKVOX_MAINTENANCE',
            message: 'seeded',
            watermarkMs: now - lagMs,
          })
      }
      // A pause for another token (the token changed): no longer in force.
      if (i === 100)
        await store.pause({ reason: 'X', untilMs: now + HOUR, sinceMs: now, token: 'other' })
      // A failed `once` or backfill short of stuck: not failing.
      if (i === 30)
        await store.recordFailure({
          atMs: now - 1000,
          purpose: 'once',
          code: 'WOLKVOX_MAINTENANCE',
          message: 'seeded',
          watermarkMs: null,
        })
      for (let n = 0; n < i % 4; n++) {
        await store.countCall()
        quotaUsed += 1
      }
    }
  })

  afterAll(async () => {
    await http?.close()
    await schedule?.close()
    await runtime?.close()
    await redis?.quit()
    await redisServer?.stop()
  })

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}${path}`)
    return { status: res.status, body: (await res.json()) as T }
  }

  const expectedStates = (): Record<OperationState, number> => {
    const counts = Object.fromEntries(OPERATION_STATES.map((s) => [s, 0])) as Record<
      OperationState,
      number
    >
    for (const state of stateOf.values()) counts[state] += 1
    return counts
  }

  /** Every server in the documented order: worst state first, then the code. */
  const expectedOrder = (states?: readonly OperationState[]): string[] =>
    [...stateOf]
      .filter(([, state]) => states === undefined || states.includes(state))
      .sort(
        ([a, sa], [b, sb]) =>
          OPERATION_STATES.indexOf(sa) - OPERATION_STATES.indexOf(sb) || a.localeCompare(b),
      )
      .map(([server]) => server)

  it('answers the exact summary and the first page, worst first', async () => {
    const { status, body } = await get<StatusPage>('/status')
    expect(status).toBe(200)
    expect(body.summary).toMatchObject({
      operations: OPERATIONS,
      states: expectedStates(),
      lagThresholdSeconds: LAG_THRESHOLD_S,
      quota: { used: quotaUsed, budget: OPERATIONS * 1000 },
      lastError: { code: 'WOLKVOX_MAINTENANCE' },
    })
    expect(body.summary.states).toEqual({
      checkpoint_missing: 3,
      paused: 5,
      failing: 8,
      lagging: 10,
      never_polled: 54,
      ok: 40,
    })
    expect(body.summary.maxLag?.server).toBe(maxLagServer)
    expect(body.summary.maxLag!.seconds).toBeGreaterThan(LAG_THRESHOLD_S)
    expect(body.page).toEqual({ offset: 0, limit: 50, total: OPERATIONS, next: 50 })
    expect(body.operations.map((o) => o.server)).toEqual(expectedOrder().slice(0, 50))
    // Each full status carries its state, the same as the summary's.
    for (const o of body.operations) expect(o.state, o.server).toBe(stateOf.get(o.server))
    expect(body.operations[0]!.checkpoint.state).toBe('missing')
    expect(body.operations[3]!.paused).toMatchObject({ reason: 'WOLKVOX_TOKEN_INVALID' })
    expect(
      body.operations.find((o) => o.state === 'failing' && o.stuckWindows.length > 0),
    ).toBeDefined()
  })

  it('covers every operation exactly once, page by page, in the same order', async () => {
    for (const limit of [7, 50, 500]) {
      const seen: string[] = []
      let offset: number | null = 0
      while (offset !== null) {
        const answer: { status: number; body: StatusPage } = await get<StatusPage>(
          `/status?limit=${limit}&offset=${offset}`,
        )
        const { status, body } = answer
        expect(status).toBe(200)
        expect(body.page.total).toBe(OPERATIONS)
        expect(body.operations.length).toBe(Math.min(limit, OPERATIONS - offset))
        seen.push(...body.operations.map((o) => o.server))
        offset = body.page.next
      }
      expect(seen).toEqual(expectedOrder())
      expect(new Set(seen).size).toBe(OPERATIONS)
    }
    const past = await get<StatusPage>('/status?offset=120')
    expect(past.body.operations).toEqual([])
    expect(past.body.page).toEqual({ offset: 120, limit: 50, total: OPERATIONS, next: null })
  })

  it('lists only the states asked for, and the summary stays the whole fleet', async () => {
    const { status, body } = await get<StatusPage>('/status?state=failing,paused')
    expect(status).toBe(200)
    expect(body.page).toEqual({ offset: 0, limit: 50, total: 13, next: null })
    expect(body.operations.map((o) => o.server)).toEqual(expectedOrder(['paused', 'failing']))
    expect(body.summary.operations).toBe(OPERATIONS)
    const lagging = await get<StatusPage>('/status?state=lagging&limit=4&offset=8')
    expect(lagging.body.operations.map((o) => o.server)).toEqual(
      expectedOrder(['lagging']).slice(8),
    )
    expect(lagging.body.page).toEqual({ offset: 8, limit: 4, total: 10, next: null })
  })

  it('refuses bad paging and state values with POLL_STATUS_QUERY_INVALID', async () => {
    for (const query of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'limit=1.5',
      'offset=-1',
      'offset=x',
      'state=nope',
      'state=failing,',
      'state=FAILING',
      'limit=5&limit=6',
      'fields=all',
    ]) {
      const { status, body } = await get<{ error: { code: string } }>(`/status?${query}`)
      expect(status, query).toBe(400)
      expect(body.error.code, query).toBe('POLL_STATUS_QUERY_INVALID')
    }
    const most = await get<StatusPage>('/status?limit=500')
    expect(most.status).toBe(200)
    expect(most.body.operations).toHaveLength(OPERATIONS)
    const bad = await get<{ error: { code: string } }>('/status/servers?state=nope')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('POLL_STATUS_QUERY_INVALID')
  })

  it('keeps ?server=: one operation, 404 when not configured, 400 when not a code', async () => {
    const server = servers[9]!
    const { status, body } = await get<StatusPage>(`/status?server=${server}`)
    expect(status).toBe(200)
    expect(body.operations.map((o) => o.server)).toEqual([server])
    expect(body.operations[0]!.state).toBe('failing')
    expect(body.page).toEqual({ offset: 0, limit: 50, total: 1, next: null })
    expect(body.summary.operations).toBe(OPERATIONS)
    const filtered = await get<StatusPage>(`/status?server=${server}&state=ok`)
    expect(filtered.body.operations).toEqual([])
    const missing = await get<{ error: { code: string } }>('/status?server=0010')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('POLL_OPERATION_NOT_FOUND')
    expect((await get('/status?server=nope')).status).toBe(400)
  })

  it('lists every server and its state without the full reads', async () => {
    const { status, body } = await get<ServerList>('/status/servers')
    expect(status).toBe(200)
    expect(body.servers.map((s) => s.server)).toEqual([...servers].sort())
    for (const s of body.servers) expect(s.state, s.server).toBe(stateOf.get(s.server))
    expect(body.summary.states).toEqual(expectedStates())
    expect(Object.keys(body.servers[0]!).sort()).toEqual([
      'lagSeconds',
      'server',
      'state',
      'watermark',
    ])
    const failing = await get<ServerList>('/status/servers?state=failing')
    expect(failing.body.servers.map((s) => s.server)).toEqual(expectedOrder(['failing']))
  })

  it('prints the same summary with `status --summary`, and with every operation without it', async () => {
    const summary = await runPoller(['status', '--summary'], env)
    expect(summary.code, summary.stderr).toBe(0)
    const printed = JSON.parse(summary.stdout) as { summary: FleetSummary; operations?: unknown }
    expect(printed.operations).toBeUndefined()
    const { body } = await get<StatusPage>('/status?limit=1')
    const { maxLag, ...rest } = printed.summary
    const { maxLag: httpMaxLag, ...httpRest } = body.summary
    expect(rest).toEqual(httpRest)
    expect(maxLag?.server).toBe(httpMaxLag?.server)
    expect(Math.abs(maxLag!.seconds - httpMaxLag!.seconds)).toBeLessThanOrEqual(30)

    const full = await runPoller(['status'], env)
    expect(full.code, full.stderr).toBe(0)
    const all = JSON.parse(full.stdout) as StatusPage
    expect(all.summary.states).toEqual(expectedStates())
    expect(all.operations.map((o) => o.server)).toEqual(servers)

    const both = await runPoller(['status', '--summary', '--server', servers[0]!], env)
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('CONFIG_INVALID')
  })

  it('measures one answer: time and Redis commands', async () => {
    const admin = createRedis(redisServer.url, { name: 'status-measure' })
    try {
      const commands = async (): Promise<number> =>
        Number(/total_commands_processed:(\d+)/u.exec(await admin.info('stats'))![1])
      const measure = async (path: string): Promise<string> => {
        await get(path) // warm
        const before = await commands()
        const started = performance.now()
        const { status, body } = await get(path)
        const ms = performance.now() - started
        // Less the INFO read itself.
        const used = (await commands()) - before - 1
        expect(status).toBe(200)
        return `${path}: ${ms.toFixed(1)} ms, ${used} Redis commands, ${JSON.stringify(body).length} bytes`
      }
      for (const path of [
        '/status',
        '/status?limit=500',
        '/status?state=failing',
        `/status?server=${servers[0]}`,
        '/status/servers',
      ])
        console.log(`[poller-status] ${OPERATIONS} operations, ${await measure(path)}`)
    } finally {
      await admin.quit()
    }
  })
})
