import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort, startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis } from '@wolkvox-chat-stream/redis'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  chatMessagesOf,
  compareWithTruth,
  expectedMessages,
  newServerCode,
} from '../support/poller-harness.js'
import {
  dumpRedis,
  getJson,
  runPoller,
  startPoller,
  type PollerProcess,
  type StatusDocument,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-poller-service-token-41c7'
const TOKEN_B = 'canary-poller-service-token-b-9e02'
const HOUR = 3_600_000
const INTERVAL_MS = 2_000
const SETTLE_LAG_MS = 5_000
const kafkaBrokers = inject('kafkaBrokers')

const watermarkOf = async (redisUrl: string, server: string): Promise<number> => {
  const redis = createRedis(redisUrl, { name: 'test-watermark' })
  try {
    return Number(await redis.hget(`wcs:{${server}}:state:watermark.chat_2`, 'value'))
  } finally {
    await redis.quit()
  }
}

describe('poller run: two processes, two operations from a file, and a backfill on one token', () => {
  let sim: RunningSimulator
  let redis: RedisServer

  beforeAll(async () => {
    ;[sim, redis] = await Promise.all([
      startSimulator({ tokens: [TOKEN, TOKEN_B], chatsPerHour: 20, seed: 71, latencyMs: 40 }),
      startRedisServer(),
    ])
  })

  afterAll(async () => {
    await sim?.close()
    await redis?.stop()
  })

  it('keeps the live feed on time, makes no overlapping call, and matches the ground truth', async () => {
    const live = newServerCode()
    const other = newServerCode()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 60_000
    const backfillFrom = startMs - 6 * HOUR
    const dir = mkdtempSync(join(tmpdir(), 'poller-ops-'))
    const opsFile = join(dir, 'operations.json')
    writeFileSync(
      opsFile,
      JSON.stringify([
        { server: live, tokenEnv: 'TOKEN_LIVE', start: new Date(startMs).toISOString() },
        {
          server: other,
          tokenEnv: 'TOKEN_OTHER',
          start: new Date(startMs - 2 * HOUR).toISOString(),
        },
      ]),
    )
    const env = {
      WOLKVOX_OPERATIONS_FILE: opsFile,
      TOKEN_LIVE: TOKEN,
      TOKEN_OTHER: TOKEN_B,
      WOLKVOX_BASE_URL: sim.url,
      KAFKA_BROKERS: kafkaBrokers,
      REDIS_URL: redis.url,
      POLL_START: '2m',
      POLL_INTERVAL: `${INTERVAL_MS / 1000}s`,
      POLL_SETTLE_LAG: `${SETTLE_LAG_MS / 1000}s`,
      POLL_LOOKBACK: '10s',
      POLL_SWEEP_INTERVAL: '6s',
      POLL_SWEEP_LOOKBACK: '1m',
      POLL_LOCK_TTL: '2s',
      POLL_LOCK_WAIT: '20s',
      POLL_BACKFILL_PAUSE: '200ms',
      // A 2 s schedule needs tens of thousands of calls a day: the automatic live reserve would
      // leave a backfill nothing under the default budget.
      POLL_DAILY_QUOTA: '1000000',
      LOG_LEVEL: 'warn',
    }
    const ports = [await freePort(), await freePort()]
    const runs = ports.map((port) => startPoller(['run'], { ...env, HTTP_PORT: String(port) }))
    const processes: PollerProcess[] = [...runs]
    try {
      const statusUrl = `http://127.0.0.1:${ports[0]}/status?server=${live}`
      await waitFor(
        async () =>
          (await getJson<StatusDocument>(statusUrl)).operations[0]?.lastSuccess.live !== undefined,
        { what: 'the first live poll', timeoutMs: 30_000, intervalMs: 250 },
      )

      // How far the live watermark trails the newest second it may cover, sampled throughout.
      // Every read is counted: one that fails, or finds no watermark after the first live poll,
      // is an error of the status endpoint, not a sample to skip.
      let worstBehindMs = 0
      let samples = 0
      const sampleErrors: string[] = []
      let sampling = true
      const sampler = (async () => {
        while (sampling) {
          const at = Date.now()
          try {
            const doc = await getJson<StatusDocument>(statusUrl)
            const watermark = doc.operations[0]?.watermark
            if (!watermark) throw new Error('no live watermark')
            const behind = Math.floor((at - SETTLE_LAG_MS) / 1000) * 1000 - Date.parse(watermark)
            worstBehindMs = Math.max(worstBehindMs, behind)
            samples++
          } catch (error) {
            sampleErrors.push(`${new Date(at).toISOString()}: ${String(error)}`)
          }
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      })()

      const backfillArgs = [
        'backfill',
        '--server',
        live,
        '--from',
        new Date(backfillFrom).toISOString(),
        '--to',
        new Date(startMs - 1000).toISOString(),
        '--window',
        '20m',
      ]
      const first = startPoller(backfillArgs, env)
      processes.push(first)
      await waitFor(() => first.lines.filter((l) => l.event === 'window').length >= 4, {
        what: 'four backfill windows',
        timeoutMs: 30_000,
      })
      first.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')
      const resumed = await runPoller(backfillArgs, env)
      expect(resumed.code, resumed.stderr).toBe(0)
      const end = resumed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.event === 'end')
      expect(end).toMatchObject({ resumed: true, windowsTotal: 18, windowsDone: 18 })
      // Windows were resumed, not all redone.
      expect(resumed.stdout.match(/"event":"window"/g)!.length).toBeLessThan(18)

      // A sweep and a few more live polls after the backfill, waited for on the status itself.
      const backfillDoneAt = Date.now()
      await waitFor(
        async () => {
          const op = (
            await getJson<StatusDocument>(`http://127.0.0.1:${ports[1]}/status`)
          ).operations.find((o) => o.server === live)
          const { sweep, live: lastLive } = op?.lastSuccess ?? {}
          return (
            sweep !== undefined &&
            Date.parse(sweep.at) > backfillDoneAt &&
            lastLive !== undefined &&
            Date.parse(lastLive.at) > backfillDoneAt + 2 * INTERVAL_MS
          )
        },
        { what: 'a sweep and live polls after the backfill', timeoutMs: 30_000, intervalMs: 250 },
      )
      sampling = false
      await sampler
      // The sampler ran from the first live poll through the backfill and the wait above (over
      // 2 intervals, 4 s, alone), a read every 250 ms plus its own time: 8 reads is a floor that
      // leaves each one about a second under load. None may fail.
      expect(sampleErrors).toEqual([])
      expect(samples).toBeGreaterThanOrEqual(8)
      expect(worstBehindMs).toBeLessThanOrEqual(2 * INTERVAL_MS)

      const doc = await getJson<StatusDocument>(`http://127.0.0.1:${ports[1]}/status`)
      const liveStatus = doc.operations.find((o) => o.server === live)!
      expect(liveStatus.coverage.gapCount).toBe(0)
      expect(Date.parse(liveStatus.coverage.from!)).toBe(backfillFrom)
      expect(liveStatus.backfills).toEqual([
        expect.objectContaining({ state: 'done', windowsDone: 18, windowsTotal: 18 }),
      ])
      expect(liveStatus.lastSuccess.sweep).toBeDefined()
      expect(liveStatus.stuckWindows).toEqual([])
      expect(liveStatus.schedule?.map((s) => s.kind).sort()).toEqual(['poll', 'sweep'])
      expect(doc.operations.map((o) => o.server).sort()).toEqual([live, other].sort())

      // The replicas' live jobs started on time: counted, and late by well under an interval.
      const polls = { count: 0, sum: 0 }
      for (const port of ports) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
        const read = (part: 'count' | 'sum'): number =>
          Number(
            new RegExp(
              `^wolkvox_poller_schedule_delay_seconds_${part}\\{[^}]*kind="poll"[^}]*\\} (\\S+)$`,
              'm',
            ).exec(text)?.[1] ?? 0,
          )
        polls.count += read('count')
        polls.sum += read('sum')
      }
      expect(polls.count).toBeGreaterThanOrEqual(3)
      expect(polls.sum / polls.count).toBeLessThan(INTERVAL_MS / 1000)

      for (const run of runs) run.kill('SIGTERM')
      for (const run of runs) expect((await run.exited).code).toBe(0)

      expect(sim.overlaps()).toEqual([])
      // Every call was counted against the day's quota, per operation.
      const status = await runPoller(['status'], env)
      expect(status.code, status.stderr).toBe(0)
      const final = JSON.parse(status.stdout) as StatusDocument
      const total = final.operations.reduce((sum, o) => sum + o.quota.used, 0)
      expect(total).toBe(sim.calls().length)
      expect(final.operations.every((o) => !o.lock.held)).toBe(true)

      for (const [server, from] of [
        [live, backfillFrom],
        [other, startMs - 2 * HOUR],
      ] as const) {
        const watermarkMs = await watermarkOf(redis.url, server)
        const events = await chatMessagesOf(kafkaBrokers, server)
        const truth = sim.truth({ from: new Date(from), to: new Date(watermarkMs) })
        expect(truth.messageCount).toBeGreaterThan(0)
        const diff = compareWithTruth(events, expectedMessages(truth, server))
        expect(diff, server).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
      }

      const dump = await dumpRedis(redis.url)
      expect(dump.keys.some((k) => k.startsWith('wcs:{bullmq}:poller:'))).toBe(true)
      for (const token of [TOKEN, TOKEN_B]) {
        expect(dump.text).not.toContain(token)
        for (const p of processes) expect(`${p.stdout()}${p.stderr()}`).not.toContain(token)
        expect(`${resumed.stdout}${resumed.stderr}${status.stdout}`).not.toContain(token)
      }
    } finally {
      for (const p of processes) if (p.process.exitCode === null) p.kill('SIGKILL')
    }
  })
})
