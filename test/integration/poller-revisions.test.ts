/*
 * Late values (issue 27): Wolkvox fills `feeling` (and may correct other fields outside the
 * event's identity) after a message is first readable. A re-read publishes such a message again,
 * same key and event_id, with its new revision; an unchanged re-read publishes nothing. On the
 * simulator over HTTP (its late data, read before and after the values are filled), the private
 * broker and the private redis-server; then the published set's Redis adapter on its own, upgrade
 * from the sets of earlier versions included.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { chatMessageRevision, type ChatMessage } from '@wolkvox-chat-stream/events'
import {
  createLogger,
  createMetricsRegistry,
  type MetricsRegistry,
} from '@wolkvox-chat-stream/observability'
import {
  createPollerRuntime,
  createRedisPublishedSet,
  readPollerConfig,
  type PollerRuntime,
} from '@wolkvox-chat-stream/poller'
import { createRedis, redisKeys, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  chatMessagesOf,
  compareWithTruth,
  expectedMessages,
  newServerCode,
  pollerEnv,
} from '../support/poller-harness.js'

const TOKEN = 'canary-poller-revisions-token-7e13'
const HOUR = 3_600_000
const DAY = 86_400_000
const kafkaBrokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

describe('poller: a re-read publishes what Wolkvox changed since, and only that', () => {
  let sim: RunningSimulator
  let runtime: PollerRuntime
  let registry: MetricsRegistry
  /** How far the simulator's clock runs ahead of ours: past `lateDataMs`, late values are filled. */
  let simAheadMs = 0
  const server = newServerCode()

  beforeAll(async () => {
    // Half the chats come late: `feeling` (and for some `customer_id`) empty for 12 h after close.
    sim = await startSimulator({
      tokens: [TOKEN],
      chatsPerHour: 12,
      seed: 27,
      lateDataMs: 12 * HOUR,
      lateShare: 0.5,
      now: () => Date.now() + simAheadMs,
    })
    registry = createMetricsRegistry({ collectDefaultMetrics: false })
    runtime = await createPollerRuntime(
      readPollerConfig(
        pollerEnv({ server, token: TOKEN, simulatorUrl: sim.url, kafkaBrokers, redisUrl }),
      ),
      createLogger({
        name: 'poller-revisions-test',
        level: 'warn',
        stream: { write: () => undefined },
      }),
      registry,
    )
  })

  afterAll(async () => {
    await runtime?.close()
    await sim?.close()
  })

  it('publishes changed messages again with a new revision, same key and event_id, and unchanged ones never', async () => {
    const operation = runtime.config.operations[0]!
    const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR
    const range = { fromMs: end - 4 * HOUR, toMs: end - 1000 }

    const first = await runtime.poll(operation, range)
    const lateServed = sim.lateMessagesServed()
    expect(first.published).toBeGreaterThan(20)
    expect(first).toMatchObject({ revised: 0, duplicates: 0 })
    expect(lateServed).toBeGreaterThan(0)
    expect(lateServed).toBeLessThan(first.published)

    // Nothing changed upstream: nothing published.
    const unchanged = await runtime.poll(operation, range)
    expect(unchanged).toMatchObject({ published: 0, revised: 0, duplicates: first.published })

    // Wolkvox has filled the late values since.
    simAheadMs = 13 * HOUR
    sim.clearCalls()
    const revised = await runtime.poll(operation, range)
    expect(sim.lateMessagesServed()).toBe(0)
    expect(revised).toMatchObject({
      published: lateServed,
      revised: lateServed,
      duplicates: first.published - lateServed,
    })
    // Re-read once more with the final values: nothing new.
    const again = await runtime.poll(operation, range)
    expect(again).toMatchObject({ published: 0, revised: 0, duplicates: first.published })

    const topic = await chatMessagesOf(kafkaBrokers, server)
    expect(topic).toHaveLength(first.published + lateServed)
    const byId = new Map<string, ChatMessage[]>()
    for (const e of topic) byId.set(e.event_id, [...(byId.get(e.event_id) ?? []), e])
    expect(byId.size).toBe(first.published)
    let republished = 0
    for (const [id, records] of byId) {
      for (const r of records) expect(r.revision).toBe(chatMessageRevision(r))
      if (records.length === 1) continue
      // Same key (so the same partition, in order), same identity; the new revision comes second.
      expect(records, id).toHaveLength(2)
      republished++
      const [old, now] = records as [ChatMessage, ChatMessage]
      expect(now.conn_id).toBe(old.conn_id)
      expect(now.message).toBe(old.message)
      expect(old.feeling === '' || old.customer_id === '').toBe(true)
      expect([now.feeling, now.customer_id]).not.toEqual([old.feeling, old.customer_id])
      expect(now.revision).not.toBe(old.revision)
      expect(now.polled_at.getTime()).toBeGreaterThan(old.polled_at.getTime())
    }
    expect(republished).toBe(lateServed)
    // The latest revision of every event is the upstream's final data.
    const latest = [...byId.values()].map((records) => records.at(-1)!)
    const truth = sim.truth({ from: new Date(range.fromMs), to: new Date(range.toMs) })
    expect(compareWithTruth(latest, expectedMessages(truth, server))).toEqual({
      missing: [],
      unexpected: [],
      repeated: [],
      wrong: [],
    })
    const metrics = await registry.metrics()
    expect(metrics).toContain(
      `wolkvox_poller_events_revised_total{server="${server}"} ${lateServed}`,
    )
    expect(metrics).toContain(
      `wolkvox_poller_events_published_total{server="${server}"} ${first.published + lateServed}`,
    )
  })
})

describe('the published set in Redis: revisions per day, and the sets of earlier versions', () => {
  let redis: Redis
  const NOW = Date.UTC(2025, 5, 10, 12)
  let clock = NOW
  const horizonMs = 3 * DAY

  beforeAll(async () => {
    redis = createRedis(redisUrl, { name: 'poller-revisions-test' })
    await waitUntilReady(redis)
  })
  afterAll(async () => {
    await redis?.quit()
  })

  const setFor = (server: string) =>
    createRedisPublishedSet({ redis, server, report: 'chat_2', horizonMs, now: () => clock })
  const due = async (set: ReturnType<typeof setFor>, events: [string, string][]) =>
    Object.fromEntries(
      await set.unpublished(events.map(([eventId, revision]) => ({ eventId, revision }))),
    )

  it('tells new, revised and unchanged events apart, the newest day winning, within the horizon', async () => {
    const server = newServerCode()
    const set = setFor(server)
    clock = NOW
    expect(
      await due(set, [
        ['a', 'r1'],
        ['b', 'r1'],
      ]),
    ).toEqual({ a: 'new', b: 'new' })
    await set.add([
      { eventId: 'a', revision: 'r1' },
      { eventId: 'b', revision: 'r1' },
    ])
    expect(
      await due(set, [
        ['a', 'r1'],
        ['b', 'r2'],
        ['c', 'r1'],
      ]),
    ).toEqual({
      b: 'revised',
      c: 'new',
    })
    // A day later, b is published with r2: today's hash holds r2, yesterday's still r1.
    clock = NOW + DAY
    await set.add([{ eventId: 'b', revision: 'r2' }])
    expect(
      await due(set, [
        ['a', 'r1'],
        ['b', 'r2'],
      ]),
    ).toEqual({})
    expect(await due(set, [['b', 'r1']])).toEqual({ b: 'revised' })
    const today = redisKeys.key(server, 'published-revisions', 'chat_2', '20250611')
    expect(await redis.type(today)).toBe('hash')
    expect(await redis.hgetall(today)).toEqual({ b: 'r2' })
    const ttl = await redis.pttl(today)
    expect(ttl).toBeGreaterThan(horizonMs + DAY - 60_000)
    expect(ttl).toBeLessThanOrEqual(horizonMs + DAY)
    // Past the horizon a day is no longer read (in production it has expired by then).
    clock = NOW + horizonMs + 2 * DAY
    expect(
      await due(set, [
        ['a', 'r1'],
        ['b', 'r2'],
      ]),
    ).toEqual({ a: 'new' })
    // Many ids at once (over one command's batch), some remembered.
    clock = NOW + DAY
    const many = Array.from({ length: 12_000 }, (_, i): [string, string] => [`m${i}`, 'r1'])
    await set.add(many.slice(0, 6_000).map(([eventId, revision]) => ({ eventId, revision })))
    const answer = await due(
      set,
      many.map(([id], i) => [id, i % 2 === 0 ? 'r1' : 'r9']),
    )
    expect(Object.keys(answer)).toHaveLength(6_000 + 3_000)
    expect(answer.m1).toBe('revised')
    expect(answer.m2).toBeUndefined()
    expect(answer.m6000).toBe('new')
  })

  it('reads the id sets of earlier versions as published with a revision not known, and clears both', async () => {
    const server = newServerCode()
    const set = setFor(server)
    clock = NOW
    // What the previous version wrote yesterday and today: sets of ids, no revisions.
    const legacy = (day: string) => redisKeys.key(server, 'published', 'chat_2', day)
    await redis.sadd(legacy('20250609'), 'old-1', 'old-2')
    await redis.sadd(legacy('20250610'), 'old-3')
    expect(
      await due(set, [
        ['old-1', 'r1'],
        ['old-3', 'r1'],
        ['n', 'r1'],
      ]),
    ).toEqual({
      'old-1': 'revised',
      'old-3': 'revised',
      n: 'new',
    })
    // Published once more with its revision, it is known from then on; the set is never written.
    await set.add([{ eventId: 'old-1', revision: 'r1' }])
    expect(
      await due(set, [
        ['old-1', 'r1'],
        ['old-2', 'r1'],
      ]),
    ).toEqual({ 'old-2': 'revised' })
    expect(await due(set, [['old-1', 'r2']])).toEqual({ 'old-1': 'revised' })
    expect(await redis.smembers(legacy('20250610'))).toEqual(['old-3'])

    // rebind / repoll: everything is forgotten, hashes and old sets alike.
    await set.clear()
    expect(await redis.exists(legacy('20250609'), legacy('20250610'))).toBe(0)
    expect(
      await due(set, [
        ['old-1', 'r1'],
        ['old-3', 'r1'],
      ]),
    ).toEqual({
      'old-1': 'new',
      'old-3': 'new',
    })
  })

  it('costs a bounded number of bytes per remembered event', async () => {
    const server = newServerCode()
    const set = setFor(server)
    clock = NOW
    const n = 60_000
    const events = Array.from({ length: n }, (_, i) => ({
      eventId: (i * 2_654_435_761).toString(16).padStart(32, '0').slice(-32),
      revision: (i * 40_503).toString(16).padStart(16, '0').slice(-16),
    }))
    await set.add(events)
    const key = redisKeys.key(server, 'published-revisions', 'chat_2', '20250610')
    expect(await redis.hlen(key)).toBe(n)
    const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
    // About 100 bytes on Redis 7 (the README states the measured figure); a loose bound.
    expect(bytes / n).toBeLessThan(160)
    await set.clear()
  })
})
