/*
 * Security faults (QUALITY.md):
 * - "token leak: a canary token through every path, error paths included: canary absent from all
 *   output, topics, Redis keys and values". One canary drives the poller's once, run (and its
 *   HTTP routes), backfill and status, the client's retried and final upstream errors, a refused
 *   token and refused configurations; then every topic, every Redis key and value, every captured
 *   stdout/stderr, the HTTP answers and the broker's and redis-server's logs are searched for it.
 * - "host injection: server `1.evil.com#`, `1@evil.com`, `../x`: rejected at config time, no
 *   request made", through the poller's environment and its operations file, for every command;
 *   a listening socket that stands in for the upstream, Kafka and Redis records zero connections.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import { readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import {
  startSimulator,
  type FaultSpec,
  type RunningSimulator,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import { newServerCode, pollerEnv } from '../support/poller-harness.js'
import {
  dumpRedis,
  getJson,
  runPoller,
  startPoller,
  type PollerProcess,
  type StatusDocument,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const HOUR = 3_600_000
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
/** Accepted by the simulator. */
const CANARY = `canary-leak-${suffix}`
/** Refused by the simulator (WOLKVOX_TOKEN_INVALID). */
const REFUSED = `canary-refused-${suffix}`

describe('a canary token through every path of the poller', () => {
  let stack: FaultStack
  let sim: RunningSimulator
  let dir: string
  /** Everything a user or an operator could see. */
  const outputs: { what: string; text: string }[] = []
  const keep = (what: string, p: { stdout: string; stderr: string }): void => {
    outputs.push(
      { what: `${what} stdout`, text: p.stdout },
      { what: `${what} stderr`, text: p.stderr },
    )
  }

  beforeAll(async () => {
    stack = await startFaultStack()
    sim = await startSimulator({ tokens: [CANARY], chatsPerHour: 30, seed: 47 })
    dir = mkdtempSync(join(tmpdir(), 'canary-'))
  })

  afterAll(async () => {
    await sim?.close()
    await stack?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const envFor = (server: string, token = CANARY, extra: Record<string, string> = {}) =>
    pollerEnv({
      server,
      token,
      simulatorUrl: sim.url,
      kafkaBrokers: stack.brokers,
      redisUrl: stack.redisUrl,
      extra: {
        LOG_LEVEL: 'trace',
        POLL_START: '3h',
        POLL_MAX_WINDOW: '1h',
        POLL_LOCK_TTL: '3s',
        POLL_SETTLE_LAG: '5s',
        ...extra,
      },
    })

  /** Runs a command, keeps its output, and checks its exit code. */
  const run = async (what: string, args: string[], env: Record<string, string>, code: number) => {
    const result = await runPoller(args, env)
    keep(what, result)
    expect(result.code, `${what}: ${result.stderr}`).toBe(code)
    return result
  }

  it('leaves the canary in no output, topic, Redis key or value, or log', async () => {
    // Success paths: once, backfill, status, and the operations file with a token file.
    const server = newServerCode()
    const env = envFor(server)
    await run('once', ['once'], env, 0)
    const to = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR
    const range = [
      '--from',
      new Date(to - 2 * HOUR).toISOString(),
      '--to',
      new Date(to).toISOString(),
    ]
    await run(
      'backfill',
      ['backfill', ...range, '--window', '1h'],
      { ...env, POLL_BACKFILL_PAUSE: '0s' },
      0,
    )
    await run('status', ['status'], env, 0)
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, `${CANARY}\n`)
    const opsFile = join(dir, 'operations.json')
    writeFileSync(opsFile, JSON.stringify([{ server: newServerCode(), tokenFile }]))
    const { WOLKVOX_SERVER: _s, WOLKVOX_TOKEN: _t, ...noOperation } = env
    await run(
      'operations file once',
      ['once'],
      { ...noOperation, WOLKVOX_OPERATIONS_FILE: opsFile },
      0,
    )

    // The client's error paths, retried and final, one poll each.
    const faults: [string, FaultSpec[], number][] = [
      ['5xx then success', [{ kind: 'server-error', count: 1 }], 0],
      ['429 then success', [{ kind: 'rate-limited', retryAfterSeconds: 0, count: 1 }], 0],
      ['truncated JSON then success', [{ kind: 'truncated', count: 1 }], 0],
      ['wrong shape then success', [{ kind: 'wrong-shape', count: 1 }], 0],
      ['huge body then split', [{ kind: 'huge', bytes: 4 * 1024 * 1024, count: 1 }], 0],
      ['a redirect, refused', [{ kind: 'redirect', count: 1 }], 1],
      ['5xx on every attempt', [{ kind: 'server-error', count: 4 }], 1],
      // A cut call may still run upstream: the retry would wait past the lease, so the poll ends.
      ['cut connection', [{ kind: 'disconnect', count: 1 }], 1],
    ]
    for (const [what, specs, code] of faults) {
      sim.clearFaults()
      sim.injectFaults(...specs)
      await run(
        what,
        ['once'],
        envFor(newServerCode(), CANARY, { POLL_MAX_RESPONSE_BYTES: '1048576' }),
        code,
      )
    }
    sim.clearFaults()
    const refused = await run('refused token', ['once'], envFor(newServerCode(), REFUSED), 1)
    expect(refused.stderr).toContain('WOLKVOX_TOKEN_INVALID')

    // Refused configurations that hold the token.
    const bad = [
      ['bad server', { ...env, WOLKVOX_SERVER: '1.evil.com#' }],
      ['bad start', { ...env, POLL_START: 'yesterday-ish' }],
      ['token and token file', { ...env, WOLKVOX_TOKEN_FILE: tokenFile }],
    ] as const
    const opsMistakes = join(dir, 'mistakes.json')
    writeFileSync(
      opsMistakes,
      JSON.stringify([
        { server: '0010', token: CANARY },
        { server: '0011', tokenEnv: 'TOKEN_A' },
        { server: '0012', tokenEnv: 'TOKEN_B' },
      ]),
    )
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, `[{"server": "0010", "tokenEnv": ${CANARY}}]`)
    await Promise.all([
      ...bad.map(([what, e]) => run(what, ['once'], e, 1)),
      run(
        'operations file mistakes',
        ['status'],
        { ...noOperation, WOLKVOX_OPERATIONS_FILE: opsMistakes, TOKEN_A: CANARY, TOKEN_B: CANARY },
        1,
      ),
      run(
        'operations file not JSON',
        ['once'],
        { ...noOperation, WOLKVOX_OPERATIONS_FILE: broken },
        1,
      ),
    ])

    // The service with its HTTP routes, through a poll.
    const port = await freePort()
    const service: PollerProcess = startPoller(
      ['run'],
      envFor(server, CANARY, { HTTP_PORT: String(port), POLL_INTERVAL: '1s' }),
    )
    try {
      await waitFor(
        async () =>
          (await getJson<StatusDocument>(`http://127.0.0.1:${port}/status`)).operations[0]!
            .lastSuccess.live,
        { what: 'a scheduled poll of the service', intervalMs: 250 },
      )
      for (const path of [
        '/healthz',
        '/readyz',
        '/metrics',
        '/status',
        `/status?server=${server}`,
      ]) {
        outputs.push({
          what: `GET ${path}`,
          text: await (await fetch(`http://127.0.0.1:${port}${path}`)).text(),
        })
      }
    } finally {
      service.kill('SIGTERM')
      await service.exited
      keep('run', { stdout: service.stdout(), stderr: service.stderr() })
    }

    // Search everything: outputs, Redis, every record of every topic, the services' logs.
    const redis = await dumpRedis(stack.redisUrl)
    expect(redis.keys.length).toBeGreaterThan(0)
    const admin = stack.kafka.admin()
    await admin.connect()
    const names = await admin.listTopics()
    await admin.disconnect()
    expect(names).toContain('wolkvox.chat.message.v1')
    const records: { what: string; text: string }[] = []
    for (const topic of names) {
      for (const r of await readTopicToEnd(stack.kafka, topic)) {
        const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`)
        const text = [r.key?.toString('latin1'), r.value?.toString('latin1'), ...headers]
        records.push({ what: `${topic} offset ${r.offset}`, text: text.join('\n') })
      }
    }
    expect(records.length).toBeGreaterThan(0)
    const logs = [stack.broker.logFile, join(stack.redis.workDir, 'redis.log')].map((file) => ({
      what: file,
      text: readFileSync(file, 'utf8'),
    }))
    const everything = [
      ...outputs,
      { what: 'Redis', text: redis.text },
      ...records,
      ...logs,
      { what: 'the simulator record', text: JSON.stringify(sim.calls()) },
    ]
    for (const token of [CANARY, REFUSED]) {
      expect(everything.filter((o) => o.text.includes(token)).map((o) => o.what)).toEqual([])
    }
  })
})

describe('host injection through the server code', () => {
  let trap: Server
  let trapPort: number
  const connections: number[] = []
  const INJECTIONS = ['1.evil.com#', '1@evil.com', '../x']

  beforeAll(async () => {
    // Stands in for the upstream, Kafka and Redis at once: it only counts who connects.
    trap = createServer((socket) => {
      connections.push(Date.now())
      socket.destroy()
    })
    trapPort = await freePort()
    await new Promise<void>((resolve) => trap.listen(trapPort, '127.0.0.1', resolve))
  })

  afterAll(async () => {
    await new Promise((resolve) => trap.close(resolve))
  })

  const baseEnv = (): Record<string, string> => ({
    WOLKVOX_TOKEN: 'canary-injection-token',
    WOLKVOX_BASE_URL: `http://127.0.0.1:${trapPort}`,
    KAFKA_BROKERS: `127.0.0.1:${trapPort}`,
    REDIS_URL: `redis://127.0.0.1:${trapPort}`,
    LOG_LEVEL: 'trace',
  })

  it('refuses each injected server at config time, in every command and in the operations file, making no request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'injection-'))
    try {
      const commands = [['once'], ['run'], ['backfill', '--from', '3h', '--to', '2h'], ['status']]
      const cases: { what: string; args: string[]; env: Record<string, string>; field: string }[] =
        []
      for (const server of INJECTIONS) {
        for (const args of commands) {
          cases.push({
            what: `${args[0]} ${server}`,
            args,
            env: { ...baseEnv(), WOLKVOX_SERVER: server },
            field: 'WOLKVOX_SERVER',
          })
        }
        const file = join(dir, `${cases.length}.json`)
        writeFileSync(
          file,
          JSON.stringify([
            { server, tokenEnv: 'TOKEN_X', baseUrl: `http://127.0.0.1:${trapPort}` },
          ]),
        )
        const { WOLKVOX_TOKEN: _t, ...env } = baseEnv()
        for (const args of [['once'], ['run']]) {
          cases.push({
            what: `file ${args[0]} ${server}`,
            args,
            env: { ...env, WOLKVOX_OPERATIONS_FILE: file, TOKEN_X: 'canary-injection-token' },
            field: '[0].server',
          })
        }
      }
      // A few at a time: each is a Node process on two cores.
      for (let i = 0; i < cases.length; i += 4) {
        await Promise.all(
          cases.slice(i, i + 4).map(async (c) => {
            const result = await runPoller(c.args, c.env)
            expect(result.code, `${c.what}: ${result.stderr}`).toBe(1)
            expect(result.stderr, c.what).toContain('CONFIG_INVALID')
            expect(result.stderr, c.what).toContain(c.field)
            expect(result.stderr, c.what).not.toContain('canary-injection-token')
          }),
        )
      }
      expect(connections).toEqual([])

      // The control: a valid server code with the same settings does reach out at once.
      const control = startPoller(['once'], { ...baseEnv(), WOLKVOX_SERVER: '0010' })
      try {
        await waitFor(() => connections.length > 0, {
          what: 'a connection from a valid configuration',
        })
      } finally {
        control.kill('SIGKILL')
        await control.exited
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
