/*
 * First-contact resolution end to end on the real broker and Redis: the simulator's chats (with
 * returning customers at known lags) backfilled by the poller over real HTTP, classified by the
 * trámite classifier, and joined by the chat quality service with the classifications it consumes.
 * The service's FCR figures, by trámite, channel and agent and per local day, equal the
 * definition applied to the simulator's ground truth (identity, start and end of every chat) and
 * the trámite the classifier wrote on its topic, never figures computed with the service's code.
 * Then a second backfill brings late repeat contacts that move earlier chats' outcomes, and a
 * rebuild of both consumers from Kafka (their Redis epochs lost) gives the same answer.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createChatQuality, type ChatQualityService } from '@wolkvox-chat-stream/chat-quality'
import { topics, tramiteClassificationCodec } from '@wolkvox-chat-stream/events'
import { createKafkaClient, readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis } from '@wolkvox-chat-stream/redis'
import { createTramiteClassifier } from '@wolkvox-chat-stream/tramite-classifier'
import {
  catalog,
  expectedFcr,
  startSimulator,
  type RunningSimulator,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { dayWindow, localDate } from '@wolkvox-chat-stream/zoned-time'
import { produceEvents } from '../support/chat-events.js'
import { chatMessagesOf, newServerCode, pollerEnv } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { getJson } from '../support/tramite-reference.js'
import { timeBudget, uniqueName, waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fcr-e2e-token-51d0'
const ZONE = 'America/Bogota'
const H = 3_600_000
const D = 24 * H
/** FCR_WINDOW: short enough that chats of the first backfill have their window behind them. */
const WINDOW_MS = 2 * D
/**
 * The test's waits, together: two backfills, four answers and a rebuild take about 40 s alone and
 * may take several times that beside another file on two cores.
 */
const BUDGET_MS = 360_000

const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

type Outcome = 'resolved' | 'repeated' | 'pending' | 'no_identity'

interface Chat {
  connId: string
  identity: string | undefined
  startedAtMs: number
  endedAtMs: number
  agentKey: string
  channel: string
  /** The classifier's primary trámite from its topic; undefined when it wrote none. */
  tramite: string | null | undefined
}

/**
 * The definition (README of chat-quality: First-contact resolution), written out over the ground
 * truth: repeated when the same customer opens a chat about the same primary trámite that starts
 * after this one ends and within the window; else resolved once the window has passed.
 */
function outcomeOf(chat: Chat, all: readonly Chat[], nowMs: number): Outcome {
  if (chat.identity === undefined) return 'no_identity'
  const later = all.filter(
    (o) =>
      o.identity === chat.identity &&
      o.startedAtMs > chat.endedAtMs &&
      o.startedAtMs <= chat.endedAtMs + WINDOW_MS,
  )
  if (later.some((o) => o.tramite === chat.tramite)) return 'repeated'
  return nowMs > chat.endedAtMs + WINDOW_MS ? 'resolved' : 'pending'
}

/** Counts and rate of some outcomes, as the API reports them. */
function figuresOf(outcomes: readonly Outcome[]) {
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length
  const resolved = count('resolved')
  const repeated = count('repeated')
  return {
    conversations: outcomes.length,
    resolved,
    repeated,
    pending: count('pending'),
    no_identity: count('no_identity'),
    awaiting_tramite: 0,
    rate: resolved + repeated === 0 ? null : resolved / (resolved + repeated),
  }
}

/** What `GET /fcr?by=` must answer for `chats`: groups sorted by key (null last), days oldest first. */
function expectedReport(
  chats: readonly Chat[],
  by: 'agent' | 'tramite' | 'channel',
  nowMs: number,
) {
  const groups = new Map<string | null, Map<number, Outcome[]>>()
  const outcomes = chats.map((c) => outcomeOf(c, chats, nowMs))
  chats.forEach((c, i) => {
    const key = by === 'agent' ? c.agentKey : by === 'channel' ? c.channel : (c.tramite ?? null)
    const days = groups.get(key) ?? new Map<number, Outcome[]>()
    groups.set(key, days)
    const day = dayWindow(c.startedAtMs, ZONE).startMs
    days.set(day, [...(days.get(day) ?? []), outcomes[i]!])
  })
  const keys = [...groups.keys()].sort((a, b) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
  )
  return {
    totals: figuresOf(outcomes),
    groups: keys.map((key) => {
      const days = groups.get(key)!
      return {
        key,
        totals: figuresOf([...days.values()].flat()),
        days: [...days.keys()]
          .sort((a, b) => a - b)
          .map((start) => ({
            day: localDate(start, ZONE),
            window_start: new Date(start).toISOString(),
            window_end: new Date(dayWindow(start, ZONE).endMs).toISOString(),
            ...figuresOf(days.get(start)!),
          })),
      }
    }),
  }
}

const agentKeyOf = (name: string) =>
  name.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase()

describe('first-contact resolution, from the simulator through the classifier to the HTTP API', () => {
  let sim: RunningSimulator
  const server = newServerCode()
  const name = uniqueName('fcr-e2e')
  const classifierName = uniqueName('fcr-e2e-classifier')
  const classifications = `${classifierName}-output`
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'fcr-e2e-test' })
  const running: { stop(): Promise<void> }[] = []
  const nowMs = Date.now()
  const hour = (ms: number) => Math.floor(ms / H) * H
  // The first backfill, and the second one that brings the late repeat contacts.
  const first = { from: hour(nowMs - 8 * D), to: hour(nowMs - 4 * D) }
  const second = { from: first.to, to: hour(nowMs - 2 * H) }
  const consumerEnv = {
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    HTTP_PORT: '0',
    CONSUMER_SESSION_TIMEOUT: '6s',
    CONSUMER_HEARTBEAT_INTERVAL: '1s',
    CONSUMER_RETRY_MAX_BACKOFF: '1s',
    WOLKVOX_TIMEZONE: ZONE,
  }

  const startClassifier = async () => {
    const service = createTramiteClassifier({
      name: classifierName,
      logger: createLogger({ name: classifierName, level: 'silent' }),
      env: {
        ...consumerEnv,
        CLASSIFIER_OUTPUT_TOPIC: classifications,
        CLASSIFIER_SWEEP_INTERVAL: '500ms',
      },
    })
    running.push(service)
    await service.start()
  }
  const startQuality = async () => {
    const service: ChatQualityService = createChatQuality({
      name,
      logger: createLogger({ name, level: 'silent' }),
      env: {
        ...consumerEnv,
        QUALITY_OUTPUT_TOPIC: `${name}-output`,
        QUALITY_TRAMITE_TOPIC: classifications,
        QUALITY_SWEEP_INTERVAL: '500ms',
        FCR_WINDOW: '2d',
      },
    })
    running.push(service)
    await service.start()
    return service
  }
  const backfill = async (range: { from: number; to: number }) => {
    const run = await runPoller(
      [
        'backfill',
        '--server',
        server,
        '--from',
        new Date(range.from).toISOString(),
        '--to',
        new Date(range.to).toISOString(),
        '--window',
        '12h',
      ],
      pollerEnv({
        server,
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers: brokers,
        redisUrl,
      }),
    )
    expect(run.code, run.stderr).toBe(0)
  }

  /** The classifier's primary trámite of each chat of this test, as its topic holds it now. */
  const readTramites = async () => {
    const tramites = new Map<string, string | null>()
    for (const r of await readTopicToEnd(kafka, classifications)) {
      const record = tramiteClassificationCodec.decode(r.value!)
      if (record.server === server) tramites.set(record.conn_id, record.primary_tramite)
    }
    return tramites
  }

  /**
   * The chats of the ranges polled so far, from the ground truth and the message topic, plus
   * `extra`. Their trámites come from the classifier's topic on each `refresh()`: the classifier
   * may still be writing when the chats are first read.
   */
  const chatsOf = async (ranges: readonly { from: number; to: number }[], extra: Chat) => {
    const expectations = ranges.flatMap(
      (r) => sim.truth({ from: new Date(r.from), to: new Date(r.to) }).expectations,
    )
    // The channel the service groups by is the poller's normalized one, of the first message.
    const firstChannel = new Map<string, { at: number; position: number; channel: string }>()
    for (const e of await chatMessagesOf(brokers, server)) {
      const seen = firstChannel.get(e.conn_id)
      const at = e.sent_at.getTime()
      if (seen === undefined || at < seen.at || (at === seen.at && e.position < seen.position))
        firstChannel.set(e.conn_id, { at, position: e.position, channel: e.channel_normalized })
    }
    const chats: Chat[] = expectations.map((e) => ({
      connId: e.conn_id,
      identity: e.customer_id.trim() === '' ? undefined : e.customer_id.trim(),
      startedAtMs: e.started_at_ms,
      endedAtMs: e.ended_at_ms,
      agentKey: agentKeyOf(e.agent_name),
      channel: firstChannel.get(e.conn_id)!.channel,
      tramite: undefined,
    }))
    chats.push(extra)
    const refresh = async () => {
      const tramites = await readTramites()
      for (const c of chats) c.tramite = tramites.get(c.connId)
    }
    await refresh()
    return { expectations, chats, refresh }
  }
  type Polled = Awaited<ReturnType<typeof chatsOf>>

  // Every chat polled so far starts after this and before now.
  const query = (by: string) =>
    `/operations/${server}/fcr?by=${by}&from=${new Date(first.from - D).toISOString()}&to=${new Date(nowMs + H).toISOString()}`

  let budget = timeBudget(BUDGET_MS)
  const started = Date.now()
  /** Progress on the test's output, so a slow run shows where its time went. */
  const phase = (what: string) => console.info(`FCR e2e: ${what} at ${Date.now() - started} ms`)
  /**
   * Waits until the service counts every chat with its classification, then compares. The
   * classifier's topic is read again on each try: it may still be writing.
   */
  const expectAnswers = async (port: number, polled: Polled) => {
    const { chats } = polled
    // Until the totals agree (every chat counted and classified); the comparison below then
    // shows any difference.
    await waitFor(
      async () => {
        await polled.refresh()
        const { body } = await getJson(port, query('tramite'))
        const want = expectedReport(chats, 'tramite', Date.parse(body.as_of as string)).totals
        return JSON.stringify(body.totals) === JSON.stringify(want)
      },
      {
        timeoutMs: budget.within(120_000),
        what: `FCR to count all ${chats.length} chats as defined`,
      },
    ).catch(() => undefined)
    const answers: Record<string, unknown> = {}
    for (const by of ['tramite', 'channel', 'agent'] as const) {
      const { status, body } = await getJson(port, query(by))
      expect(status).toBe(200)
      const asOf = Date.parse(body.as_of as string)
      const { groups, totals } = body as { groups: { key: string | null }[]; totals: unknown }
      const want = expectedReport(chats, by, asOf)
      expect(totals, `totals by ${by}`).toEqual(want.totals)
      expect(
        groups.map(({ key }) => key),
        `groups by ${by}`,
      ).toEqual(want.groups.map((g) => g.key))
      for (const [i, group] of groups.entries()) {
        const { agent_name: _name, ...shown } = group as Record<string, unknown>
        expect(shown, `${by} ${String(group.key)}`).toEqual(want.groups[i])
      }
      answers[by] = { groups, totals }
    }
    return answers
  }

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 20, seed: 2177, historyMs: 10 * D })
  })

  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop().catch(() => undefined)))
    await sim?.close()
  })

  it(
    'equals the definition over the ground truth, moves with late repeats, survives a rebuild',
    { timeout: BUDGET_MS + 60_000 },
    async () => {
      budget = timeBudget(BUDGET_MS)
      await backfill(first)
      phase('first backfill done')
      // One chat more without customer_id or phone: a copy of a polled chat under another conn_id.
      const polled = await chatMessagesOf(brokers, server)
      const copied = polled.filter((e) => e.conn_id === polled[0]!.conn_id)
      const anonymous = copied.map((e, i) => ({
        ...e,
        conn_id: `${e.conn_id}-anon`,
        event_id: `${'a'.repeat(28)}${String(i).padStart(4, '0')}`,
        customer_id: '',
        customer_phone: null,
      }))
      await produceEvents(kafka, topics.chatMessage.name, anonymous)
      const anonymousChat = (): Chat => ({
        connId: anonymous[0]!.conn_id,
        identity: undefined,
        startedAtMs: Math.min(...anonymous.map((e) => e.sent_at.getTime())),
        endedAtMs: Math.max(...anonymous.map((e) => e.sent_at.getTime())),
        agentKey: agentKeyOf(anonymous[0]!.agent_name),
        channel: anonymous[0]!.channel_normalized,
        tramite: undefined,
      })
      await startClassifier()
      const quality = await startQuality()
      const port = quality.httpPort()!

      const before = await chatsOf([first], anonymousChat())
      expect(before.chats.length).toBeGreaterThan(500)
      await expectAnswers(port, before)
      phase(`${before.chats.length} chats answered as defined`)
      // The companion consumer of classifications is part of the service's health and metrics.
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      const applied = (service: string) =>
        Number(
          new RegExp(
            `^wolkvox_consumer_messages_total\\{outcome="applied",service="${service}"\\} (\\d+)$`,
            'mu',
          ).exec(metrics)?.[1],
        )
      expect(applied(`${name}-tramites`)).toBeGreaterThanOrEqual(before.chats.length)
      expect(applied(name)).toBeGreaterThan(before.chats.length)
      expect(metrics.match(/^# TYPE wolkvox_consumer_messages_total /gmu)).toHaveLength(1)
      const outcomesBefore = new Map(
        before.chats.map((c) => [c.connId, outcomeOf(c, before.chats, Date.now())]),
      )
      const counted = figuresOf([...outcomesBefore.values()])
      // The first range's windows have all passed: every chat is decided (or has no identity).
      expect(counted.resolved, 'resolved').toBeGreaterThan(100)
      expect(counted.repeated, 'repeated').toBeGreaterThan(5)
      expect(counted.pending, 'pending').toBe(0)
      expect(counted.no_identity, 'no identity').toBe(1)

      // Where the classifier found the trámite each chat (and its return) was written about, the
      // outcome is the one the simulator meant (its own reading of its returns).
      const asOf = Date.now()
      const intended = expectedFcr(before.expectations, { windowMs: WINDOW_MS, nowMs: asOf })
      const chatOf = new Map(before.chats.map((c) => [c.connId, c]))
      const meantOf = new Map(before.expectations.map((e) => [e.conn_id, e]))
      const returnOf = new Map(
        before.expectations.flatMap((e) => (e.return_of ? [[e.return_of.conn_id, e.conn_id]] : [])),
      )
      const asMeant = (id: string) =>
        chatOf.get(id)!.tramite === catalog.shippedRuleIds[meantOf.get(id)!.tramite]
      const agreeing = before.chats.filter(
        (c) =>
          meantOf.has(c.connId) &&
          asMeant(c.connId) &&
          (!returnOf.has(c.connId) || asMeant(returnOf.get(c.connId)!)),
      )
      expect(agreeing.length / before.expectations.length).toBeGreaterThan(0.9)
      for (const c of agreeing)
        expect(outcomeOf(c, before.chats, asOf), c.connId).toBe(intended.get(c.connId)!.outcome)

      // A second backfill: returns of the first range's chats arrive late, after their windows
      // had passed. The chats they repeat move from resolved to repeated.
      await backfill(second)
      phase('second backfill done')
      const after = await chatsOf([first, second], anonymousChat())
      await expectAnswers(port, after)
      const moved = before.chats.filter(
        (c) =>
          outcomesBefore.get(c.connId) === 'resolved' &&
          outcomeOf(c, after.chats, Date.now()) === 'repeated',
      )
      expect(moved.length, 'chats a late repeat contact moved to repeated').toBeGreaterThan(0)
      console.info(
        `FCR e2e: ${before.chats.length} then ${after.chats.length} chats; first range ` +
          `${JSON.stringify(counted)}; ${agreeing.length} classified as meant; ${moved.length} ` +
          `moved to repeated by a late contact`,
      )
      // The second range's last two days are still within their windows.
      const pending = after.chats.filter((c) => outcomeOf(c, after.chats, Date.now()) === 'pending')
      expect(pending.length, 'pending').toBeGreaterThan(20)

      // Upstream corrects the customer of a return after it was read (a newer revision of each of
      // its messages): the chat it repeated is no longer repeated. Its quality record is the same,
      // so none is written; only what FCR keeps of it changes.
      const outcomesNow = after.chats.map((c) => outcomeOf(c, after.chats, Date.now()))
      const repeatedOne = after.chats.find(
        (c, i) => outcomesNow[i] === 'repeated' && c.endedAtMs < Date.now() - WINDOW_MS - D,
      )!
      const repeat = after.chats.find(
        (o) =>
          o.identity === repeatedOne.identity &&
          o.tramite === repeatedOne.tramite &&
          o.startedAtMs > repeatedOne.endedAtMs,
      )!
      const qualityRecords = async () =>
        (await readTopicToEnd(kafka, `${name}-output`)).filter(
          (r) => r.key?.toString('utf8') === `${server}|${repeat.connId}`,
        ).length
      const recordsBefore = await qualityRecords()
      expect(recordsBefore).toBe(1)
      const corrected = (await chatMessagesOf(brokers, server))
        .filter((e) => e.conn_id === repeat.connId)
        .map((e) => ({
          ...e,
          customer_id: ' 1099887766 ',
          revision: 'customer-corrected',
          polled_at: new Date(),
        }))
      await produceEvents(kafka, topics.chatMessage.name, corrected)
      repeat.identity = '1099887766'
      await expectAnswers(port, after)
      expect(outcomeOf(repeatedOne, after.chats, Date.now())).toBe('resolved')
      expect(await qualityRecords()).toBe(recordsBefore)

      // Both consumers lose their Redis state (a new Redis): rebuilt from Kafka, the same answer.
      for (const s of running.splice(0)) await s.stop()
      const redis = createRedis(redisUrl, { name: 'fcr-e2e-test' })
      await redis.del(`wcs:{${name}}:epoch`, `wcs:{${name}-tramites}:epoch`)
      await redis.quit()
      await startClassifier()
      const rebuilt = await startQuality()
      // Compared with the definition at its own time: a chat's window may have passed meanwhile.
      await expectAnswers(rebuilt.httpPort()!, after)
      phase('rebuilt from Kafka, answered as defined')
      expect(rebuilt.tramites.status().stats.applied).toBeGreaterThanOrEqual(after.chats.length)
    },
  )
})
