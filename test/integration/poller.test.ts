import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createMetricsRegistry, createLogger } from '@wolkvox-chat-stream/observability'
import { readPollerConfig } from '@wolkvox-chat-stream/poller'
import { createPollerRuntime, type PollerRuntime } from '@wolkvox-chat-stream/poller'
import {
  startSimulator,
  type RunningSimulator,
  type Selection,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  chatMessagesOf,
  compareWithTruth,
  deadLettersOf,
  expectedMessages,
  newServerCode,
  pollerEnv,
  topicDiffFromTruth,
} from '../support/poller-harness.js'
import { callWindow } from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-poller-token-5d21'
const HOUR = 3_600_000
const kafkaBrokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

/** A poller runtime for one operation, as `once` builds it. */
async function runtimeFor(
  sim: RunningSimulator,
  server: string,
  extra: Record<string, string> = {},
  redis = redisUrl,
): Promise<PollerRuntime> {
  const config = readPollerConfig(
    pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: redis,
      extra,
    }),
  )
  const logger = createLogger({
    name: 'poller-test',
    level: 'warn',
    stream: { write: () => undefined },
  })
  return createPollerRuntime(
    config,
    logger,
    createMetricsRegistry({ collectDefaultMetrics: false }),
  )
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * The windows the simulator answered for `server` (200, or 404 for an empty one), in call order:
 * its own record of what the poller asked for, independent of what the poller reports.
 */
function windowsServed(sim: RunningSimulator, server: string): { fromMs: number; toMs: number }[] {
  expect(sim.settings.timeZone).toBe('America/Bogota')
  return sim
    .calls()
    .filter((c) => c.server === server && (c.status === 200 || c.status === 404))
    .map(callWindow)
}

/** A whole-hour range of the simulator's past, `hours` long, ending `endHoursAgo` ago. */
function pastRange(hours: number, endHoursAgo = 2): { fromMs: number; toMs: number } {
  const end = Math.floor(Date.now() / HOUR) * HOUR - endHoursAgo * HOUR
  return { fromMs: end - hours * HOUR, toMs: end - 1000 }
}

describe('poller once against the simulator, the broker and Redis', () => {
  const sims = new Map<Selection, RunningSimulator>()

  beforeAll(async () => {
    for (const selection of ['closing', 'message'] as const) {
      sims.set(
        selection,
        await startSimulator({ tokens: [TOKEN], chatsPerHour: 12, selection, seed: 11 }),
      )
    }
  })

  afterAll(async () => {
    for (const sim of sims.values()) await sim.close()
  })

  for (const selection of ['closing', 'message'] as const) {
    it(`publishes a day exactly, as one range and as hourly windows (selection by ${selection} time)`, async () => {
      const sim = sims.get(selection)!
      const day = pastRange(24)
      const truth = sim.truth({ from: new Date(day.fromMs), to: new Date(day.toMs) })
      const whole = newServerCode()
      const hourly = newServerCode()

      const oneRuntime = await runtimeFor(sim, whole)
      try {
        const summary = await oneRuntime.poll(oneRuntime.config.operations[0]!, day)
        expect(summary.published).toBe(truth.messageCount)
      } finally {
        await oneRuntime.close()
      }
      const hourlyRuntime = await runtimeFor(sim, hourly)
      try {
        for (let from = day.fromMs; from < day.toMs; from += HOUR) {
          await hourlyRuntime.poll(hourlyRuntime.config.operations[0]!, {
            fromMs: from,
            toMs: from + HOUR - 1000,
          })
        }
      } finally {
        await hourlyRuntime.close()
      }

      for (const server of [whole, hourly]) {
        const expected = expectedMessages(truth, server)
        const diff = compareWithTruth(await chatMessagesOf(kafkaBrokers, server), expected)
        expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
      }
      // The day holds the awkward cases the comparison must have covered.
      const texts = [...expectedMessages(truth, whole).values()]
      expect(texts.some((m) => /data:image\/[a-z]+;base64,/.test(m.message))).toBe(true)
      expect(texts.some((m) => /<a href=/.test(m.message))).toBe(true)
      expect(texts.some((m) => /[áéíóúñ]/i.test(m.message))).toBe(true)
      expect(texts.some((m) => /\p{Extended_Pictographic}/u.test(m.message))).toBe(true)
      const twins = new Set<string>()
      expect(
        texts.some((m) => {
          const key = JSON.stringify([m.conn_id, m.date, m.from, m.from_name, m.message])
          if (twins.has(key)) return true
          twins.add(key)
          return false
        }),
      ).toBe(true)
    })
  }

  it('publishes nothing twice across repeated and overlapping polls, and moves the watermark', async () => {
    const sim = sims.get('closing')!
    const server = newServerCode()
    // A one-hour lookback: the re-poll reads about twelve chats again (with the default 10 minutes
    // it could find none at 12 chats an hour, and prove nothing about duplicates). An absolute
    // start, so the first window's start is known exactly.
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 6 * HOUR
    const runtime = await runtimeFor(sim, server, {
      POLL_START: iso(startMs),
      POLL_MAX_WINDOW: '1h',
      POLL_LOOKBACK: '1h',
    })
    const operation = runtime.config.operations[0]!
    try {
      const first = await runtime.poll(operation)
      const firstMs = Date.parse(first.watermark!)
      const firstCalls = windowsServed(sim, server)
      // A new operation polls from POLL_START to the end of the last window it asked for.
      expect(first.window!.from).toBe(iso(startMs))
      expect(firstCalls[0]!.fromMs).toBe(startMs)
      expect(firstCalls.at(-1)!.toMs).toBe(firstMs)
      const firstTruth = sim.truth({ from: new Date(startMs), to: new Date(firstMs) })
      expect(firstTruth.messageCount).toBeGreaterThan(0)
      expect(first).toMatchObject({ published: firstTruth.messageCount, duplicates: 0 })

      // The watermark can move only once a later second is due (now less the 2 min settle lag).
      await waitFor(() => Math.floor(Date.now() / 1000) * 1000 - 120_000 > firstMs, {
        what: 'a second after the watermark to be due',
      })
      const second = await runtime.poll(operation)
      const secondMs = Date.parse(second.watermark!)
      // It re-reads the lookback (from one second after the watermark less 1 h) and moves the
      // watermark strictly forward, to the end of the last window it asked the upstream for.
      expect(second.window!.from).toBe(iso(firstMs + 1000 - HOUR))
      expect(secondMs).toBeGreaterThan(firstMs)
      const secondCalls = windowsServed(sim, server).slice(firstCalls.length)
      expect(secondCalls[0]!.fromMs).toBe(firstMs + 1000 - HOUR)
      expect(secondCalls.at(-1)!.toMs).toBe(secondMs)
      // Every message of the re-read hour is skipped as a duplicate; only the new ones go out.
      const reread = sim.truth({ from: new Date(firstMs + 1000 - HOUR), to: new Date(firstMs) })
      const fresh = sim.truth({ from: new Date(firstMs + 1000), to: new Date(secondMs) })
      expect(reread.messageCount).toBeGreaterThan(0)
      expect(second).toMatchObject({
        duplicates: reread.messageCount,
        published: fresh.messageCount,
        revised: 0,
      })

      const overlap = await runtime.poll(operation, { fromMs: startMs, toMs: secondMs })
      const truth = sim.truth({ from: new Date(startMs), to: new Date(secondMs) })
      expect(overlap).toMatchObject({ published: 0, duplicates: truth.messageCount })
      const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
      expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
    } finally {
      await runtime.close()
    }
  })

  it('splits row-capped responses until nothing is missing', async () => {
    const sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 12, seed: 12, rowCap: 40 })
    const server = newServerCode()
    const runtime = await runtimeFor(sim, server, { POLL_ROW_CAP: '40' })
    try {
      const range = pastRange(4)
      const summary = await runtime.poll(runtime.config.operations[0]!, range)
      expect(summary.splits).toBeGreaterThan(0)
      const truth = sim.truth({ from: new Date(range.fromMs), to: new Date(range.toMs) })
      expect(truth.messageCount).toBeGreaterThan(40)
      const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
      expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
    } finally {
      await runtime.close()
      await sim.close()
    }
  })

  it('dead-letters structurally broken rows with their raw JSON and publishes the rest of the window', async () => {
    const sim = sims.get('closing')!
    const server = newServerCode()
    const range = pastRange(2, 30)
    const truth = sim.truth({ from: new Date(range.fromMs), to: new Date(range.toMs) })
    const [firstChat, ...otherChats] = truth.data
    const brokenMessage = { ...firstChat!.conversation[0]!, date: 'yesterday' }
    const body = {
      code: '200',
      error: null,
      msg: 'records found',
      data: [
        { ...firstChat!, conversation: [brokenMessage, ...firstChat!.conversation.slice(1)] },
        {
          conn_id: 'broken-chat-1',
          agent_name: 'x',
          customer_name: 'y',
          conversation: 'not an array',
        },
        ...otherChats,
      ],
    }
    sim.injectFaults({ kind: 'response', status: 200, body: JSON.stringify(body) })
    const runtime = await runtimeFor(sim, server)
    try {
      const summary = await runtime.poll(runtime.config.operations[0]!, range)
      expect(summary.deadLettered).toBe(2)
      expect(summary.published).toBe(truth.messageCount - 1)
    } finally {
      await runtime.close()
    }
    const dead = await deadLettersOf(kafkaBrokers, server)
    expect(dead.map((d) => d.key).sort()).toEqual(
      [`${server}|${firstChat!.conn_id}`, `${server}|broken-chat-1`].sort(),
    )
    expect(dead.find((d) => d.key.endsWith('broken-chat-1'))!.value).toContain('not an array')
    expect(JSON.parse(dead.find((d) => d.key.endsWith(firstChat!.conn_id))!.value)).toEqual(
      brokenMessage,
    )
    for (const d of dead) expect(d.headers['dlq.error.code']).toBe('EVENT_UPSTREAM_ROW_INVALID')
    const expected = expectedMessages(truth, server)
    const events = await chatMessagesOf(kafkaBrokers, server)
    expect(events).toHaveLength(truth.messageCount - 1)
    expect(events.every((e) => expected.has(e.event_id))).toBe(true)
  })

  describe('upstream outcomes (WOLKVOX_API.md error table)', () => {
    it('an invalid token fails with WOLKVOX_TOKEN_INVALID, sets the stopped metric and leaves no watermark', async () => {
      const sim = sims.get('closing')!
      const server = newServerCode()
      const config = readPollerConfig(
        pollerEnv({
          server,
          token: 'not-a-valid-token',
          simulatorUrl: sim.url,
          kafkaBrokers,
          redisUrl,
          extra: { POLL_START: '1h' },
        }),
      )
      const registry = createMetricsRegistry({ collectDefaultMetrics: false })
      const runtime = await createPollerRuntime(
        config,
        createLogger({ name: 't', level: 'fatal' }),
        registry,
      )
      try {
        await expect(runtime.poll(config.operations[0]!)).rejects.toMatchObject({
          code: 'WOLKVOX_TOKEN_INVALID',
          retriable: false,
        })
        expect(await registry.metrics()).toContain(
          `wolkvox_poller_operation_stopped{server="${server}",reason="WOLKVOX_TOKEN_INVALID"} 1`,
        )
        expect(
          await runtime.lockRedis.hget(`wcs:{${server}}:state:watermark.chat_2`, 'value'),
        ).toBeNull()
      } finally {
        await runtime.close()
      }
    })

    it('an exhausted quota stops with WOLKVOX_QUOTA_EXCEEDED and keeps the watermark', async () => {
      const sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 12, dailyQuota: 1 })
      const server = newServerCode()
      const startMs = Math.floor(Date.now() / 1000) * 1000 - 3 * HOUR
      const runtime = await runtimeFor(sim, server, {
        POLL_START: iso(startMs),
        POLL_MAX_WINDOW: '1h',
      })
      try {
        await expect(runtime.poll(runtime.config.operations[0]!)).rejects.toMatchObject({
          code: 'WOLKVOX_QUOTA_EXCEEDED',
        })
        const watermark = await runtime.lockRedis.hget(
          `wcs:{${server}}:state:watermark.chat_2`,
          'value',
        )
        // The quota allows one call: the first window, [start, start + 1 h - 1 s], went through
        // and the watermark is exactly its end; nothing after it was claimed.
        const firstEndMs = startMs + HOUR - 1000
        expect(watermark).toBe(String(firstEndMs))
        expect(windowsServed(sim, server)).toEqual([{ fromMs: startMs, toMs: firstEndMs }])
        // And that hour is on the topic exactly, as the simulator's truth has it.
        const truth = sim.truth({ from: new Date(startMs), to: new Date(firstEndMs) })
        expect(truth.messageCount).toBeGreaterThan(0)
        const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
        expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
      } finally {
        await runtime.close()
        await sim.close()
      }
    })

    it('a 5xx and a 429 are retried and the poll succeeds; maintenance fails without moving the watermark', async () => {
      const sim = sims.get('closing')!
      const server = newServerCode()
      const runtime = await runtimeFor(sim, server, { POLL_START: '1h', POLL_LOCK_TTL: '20s' })
      try {
        sim.injectFaults(
          { kind: 'server-error', status: 502 },
          { kind: 'rate-limited', retryAfterSeconds: 1 },
        )
        const summary = await runtime.poll(runtime.config.operations[0]!)
        // Retried, not skipped: the whole range is published, as the simulator's truth has it.
        const truth = sim.truth({
          from: new Date(summary.window!.from),
          to: new Date(summary.watermark!),
        })
        expect(truth.messageCount).toBeGreaterThan(0)
        expect(summary.published).toBe(truth.messageCount)
        sim.injectFaults({ kind: 'maintenance', count: 5 })
        await expect(runtime.poll(runtime.config.operations[0]!)).rejects.toMatchObject({
          code: expect.stringMatching(/WOLKVOX_MAINTENANCE|WOLKVOX_DEADLINE_EXCEEDED/),
        })
        const watermark = await runtime.lockRedis.hget(
          `wcs:{${server}}:state:watermark.chat_2`,
          'value',
        )
        expect(new Date(Number(watermark)).toISOString()).toBe(summary.watermark)
        sim.clearFaults()
      } finally {
        await runtime.close()
      }
    })

    it('an empty window (404) is a success with nothing published', async () => {
      const sim = sims.get('closing')!
      const runtime = await runtimeFor(sim, newServerCode())
      try {
        const longAgo = Date.now() - 30 * 24 * HOUR
        const summary = await runtime.poll(runtime.config.operations[0]!, {
          fromMs: longAgo,
          toMs: longAgo + HOUR,
        })
        expect(summary).toMatchObject({ fetched: 0, published: 0, deadLettered: 0 })
      } finally {
        await runtime.close()
      }
    })
  })
})
