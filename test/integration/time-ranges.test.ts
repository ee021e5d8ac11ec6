/*
 * Regression (issue 25): one time syntax for every command and HTTP query. An operator's
 * `npm run poller -- backfill --server S --from 2026-11-29 --to 2026-12-02` was refused
 * (`"2026-11-29" is not a time`) while the classifier's reclassify took the same dates as whole
 * local days, and the HTTP query `from=2026-12-04&to=2026-12-04` answered nothing (`to` was the
 * day's midnight, the end of a half-open range). A bare date is now its whole local day
 * everywhere: the backfill asks the upstream for exactly the two local days, and the aggregator's
 * `from=D&to=D` answers exactly the windows of day D.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createKafkaClient, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { localDate } from '@wolkvox-chat-stream/zoned-time'
import { produceEvents } from '../support/chat-events.js'
import { newServerCode, pollerEnv, topicDiffFromTruth } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { httpSnapshot, referenceSnapshot } from '../support/sentiment-reference.js'
import { sentimentEvents } from '../support/sentiment-events.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-time-ranges-token-25b1'
const ZONE = 'America/Bogota'
const DAY_MS = 86_400_000
const kafkaBrokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

describe('poller backfill --from D1 --to D2 (bare local dates)', () => {
  let sim: RunningSimulator

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 4, seed: 25, timeZone: ZONE })
  })

  afterAll(async () => {
    await sim?.close()
  })

  it('polls exactly the two whole local days, and the topic holds exactly their chats', async () => {
    const server = newServerCode()
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl,
      extra: { WOLKVOX_TIMEZONE: ZONE },
    })
    // Two settled local days inside the simulator's week of history.
    const first = localDate(Date.now() - 3 * DAY_MS, ZONE)
    const second = localDate(Date.now() - 2 * DAY_MS, ZONE)
    const compact = (day: string): string => day.replaceAll('-', '')
    sim.clearCalls()

    const out = await runPoller(
      ['backfill', '--server', server, '--from', first, '--to', second, '--window', '6h'],
      env,
    )
    expect(out.code, out.stderr).toBe(0)

    // Windows of six hours from the first day's 00:00:00 to the second day's 23:59:59, local.
    const asked = sim
      .calls()
      .filter((c) => c.status === 200)
      .map((c) => [c.dateIni, c.dateEnd])
    const pad = (n: number): string => String(n).padStart(2, '0')
    expect(asked).toEqual(
      [first, second].flatMap((day) =>
        [0, 6, 12, 18].map((h) => [
          `${compact(day)}${pad(h)}0000`,
          `${compact(day)}${pad(h + 5)}5959`,
        ]),
      ),
    )
    const truth = sim.truth({
      dateIni: `${compact(first)}000000`,
      dateEnd: `${compact(second)}235959`,
    })
    expect(truth.messageCount).toBeGreaterThan(0)
    expect(await topicDiffFromTruth(kafkaBrokers, server, truth)).toEqual({
      missing: [],
      unexpected: [],
      repeated: [],
      wrong: [],
    })
  })

  it('still refuses a text that is not a time, listing the forms (CONFIG_INVALID, exit 1)', async () => {
    const env = pollerEnv({
      server: newServerCode(),
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl,
    })
    const out = await runPoller(
      ['backfill', '--server', env.WOLKVOX_SERVER!, '--from', '2026-11-31', '--to', '1d'],
      env,
    )
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(
      'poller: CONFIG_INVALID: "2026-11-31" is not a time: use a day (YYYY-MM-DD or YYYYmmdd: the whole day in America/Bogota)',
    )
  })
})

describe('HTTP from=D&to=D (a bare local date as both bounds)', () => {
  const silent = createLogger({ name: 'time-ranges-test', level: 'silent' })
  const code = String(100_000 + Math.floor(Math.random() * 900_000))
  const input = uniqueName('time-ranges-input')
  const events = sentimentEvents(code, { chatsPerHour: 4 })
  let kafka: Kafka
  let admin: Admin
  let service: ConsumerService | undefined

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'time-ranges-test' })
    admin = kafka.admin()
    await admin.connect()
    await createTopic(admin, input, 2)
  })

  afterAll(async () => {
    await service?.stop()
    await admin?.disconnect()
  })

  it('the sentiment windows of from=2025-02-10&to=2025-02-10 are exactly those of that local day', async () => {
    await produceEvents(kafka, input, events)
    service = createSentimentAggregator({
      name: uniqueName('time-ranges-sentiment'),
      outputTopic: uniqueName('time-ranges-output'),
      logger: silent,
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        REDIS_URL: redisUrl,
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        WOLKVOX_TIMEZONE: ZONE,
        CONSUMER_INPUT_TOPIC: input,
      },
    })
    await service.start()
    const port = service.httpPort()!
    const reference = referenceSnapshot(events, code)
    await waitFor(async () => isDeepStrictEqual(await httpSnapshot(port, code), reference), {
      timeoutMs: 60_000,
      what: 'the aggregator to hold every event',
    })

    // 2025-02-10 in Bogotá is [05:00Z, next day 05:00Z): its 23:00 hour starts at 04:00Z on the 11th.
    const dayStartMs = Date.parse('2025-02-10T05:00:00Z')
    const expected = (granularity: string): string[] =>
      Object.keys(reference.windows)
        .map((id) => id.split('|'))
        .filter(([, g, start]) => {
          const ms = Date.parse(start!)
          return g === granularity && ms >= dayStartMs && ms < dayStartMs + DAY_MS
        })
        .map(([agent, , start]) => `${agent}|${start}`)
        .sort()
    const answered = async (granularity: string): Promise<string[]> => {
      const out: string[] = []
      for (const { agent_key: agent } of reference.agents) {
        const res = await fetch(
          `http://127.0.0.1:${port}/operations/${code}/agents/${encodeURIComponent(agent)}/sentiment?granularity=${granularity}&from=2025-02-10&to=2025-02-10&limit=5000`,
        )
        expect(res.status).toBe(200)
        const body = (await res.json()) as {
          from: string
          to: string
          windows: { window_start: string }[]
        }
        expect([body.from, body.to]).toEqual([
          '2025-02-10T05:00:00.000Z',
          '2025-02-11T05:00:00.000Z',
        ])
        out.push(...body.windows.map((w) => `${agent}|${w.window_start}`))
      }
      return out.sort()
    }

    const hours = expected('hour')
    expect(hours.some((id) => id.endsWith('|2025-02-11T04:00:00.000Z'))).toBe(true)
    expect(await answered('hour')).toEqual(hours)
    const days = expected('day')
    expect(days.length).toBeGreaterThan(0)
    expect(days.every((id) => id.endsWith('|2025-02-10T05:00:00.000Z'))).toBe(true)
    expect(await answered('day')).toEqual(days)
  })
})
