/*
 * Chat quality end to end on the real broker and Redis: the simulator's chats, polled by the
 * poller over real HTTP onto wolkvox.chat.message.v1, checked by the service; its ChatQuality
 * records and per-agent HTTP figures equal what the simulator meant to write (its ground truth's
 * expectations: timings from the planned roles and times, checks from the protocol steps each
 * agent took or skipped), never a reference computed with the product's code. Then a late agent
 * message moves one record and its counters exactly, and a replay, re-published duplicates and a
 * second instance (a rebalance) change nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { chatQualityCodec, topicKeys, type ChatMessage } from '@wolkvox-chat-stream/events'
import {
  createChatQuality,
  type ChatQualityService,
  type QualityFigures,
} from '@wolkvox-chat-stream/chat-quality'
import { createKafkaClient, readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import {
  startSimulator,
  type ChatExpectation,
  type RunningSimulator,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { dayWindow } from '@wolkvox-chat-stream/zoned-time'
import { produceEvents } from '../support/chat-events.js'
import { chatMessagesOf, newServerCode, pollerEnv } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { getJson } from '../support/tramite-reference.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-quality-e2e-token-7c42'
const ZONE = 'America/Bogota'
const FIRST_TARGET = 60_000
const GAP_TARGET = 120_000
const CHECKS = [
  'saludo',
  'identificacion',
  'ofrece-ayuda',
  'despedida',
  'no-expresiones-prohibidas',
]
/** The documented first-response bucket bounds (README: Per-agent figures), written out here. */
const BOUNDS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1_800, 3_600].map(
  (s) => s * 1000,
)

const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')
const INPUT = 'wolkvox.chat.message.v1'

/** What a record must say of a chat, from the simulator's expectation alone. */
function expectedRecord(server: string, e: ChatExpectation) {
  const wrote = e.messages.customer > 0
  return {
    server,
    conn_id: e.conn_id,
    agent_key: e.agent_name.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase(),
    agent_name: e.agent_name,
    started_at: new Date(e.started_at_ms).toISOString(),
    ended_at: new Date(e.ended_at_ms).toISOString(),
    complete: true,
    first_response_ms: e.first_response_ms,
    handoff_ms: e.handoff_ms,
    response_gaps_ms: e.response_gaps_ms,
    longest_wait_ms: e.longest_wait_ms,
    last_turn_unanswered: e.last_turn_unanswered,
    duration_ms: e.duration_ms,
    messages: e.messages,
    first_response_target_ms: FIRST_TARGET,
    response_gap_target_ms: GAP_TARGET,
    meets_first_response: wrote
      ? e.first_response_ms !== null && e.first_response_ms <= FIRST_TARGET
      : null,
    meets_response_gaps: wrote
      ? e.response_gaps_ms.length > 0 && e.response_gaps_ms.every((g) => g <= GAP_TARGET)
      : null,
    checks: Object.fromEntries(CHECKS.map((c) => [c, e.checks[c as keyof typeof e.checks]])),
  }
}

type Shown = ReturnType<typeof expectedRecord>

/** The quantile's bucket bound from the values themselves: the bound at or above the ranked value. */
function boundOf(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const value = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!
  return BOUNDS.find((b) => value <= b) ?? null
}

/** An agent's figures over some chats, from the expectations alone. */
function expectedFigures(chats: readonly Shown[]) {
  const firsts = chats.flatMap((c) => (c.first_response_ms === null ? [] : [c.first_response_ms]))
  const share = (met: number, of: number) => (of === 0 ? null : met / of)
  const applicable = chats.filter((c) => c.meets_first_response !== null)
  const gaps = chats.filter((c) => c.meets_response_gaps !== null)
  return {
    conversations: chats.length,
    first_response: {
      applicable: applicable.length,
      met: applicable.filter((c) => c.meets_first_response).length,
      share: share(applicable.filter((c) => c.meets_first_response).length, applicable.length),
      p50_ms: boundOf(firsts, 0.5),
      p90_ms: boundOf(firsts, 0.9),
    },
    response_gaps: {
      applicable: gaps.length,
      met: gaps.filter((c) => c.meets_response_gaps).length,
      share: share(gaps.filter((c) => c.meets_response_gaps).length, gaps.length),
    },
    checks: [...CHECKS].sort().map((check) => {
      const passed = chats.filter((c) => c.checks[check]).length
      return { check, checked: chats.length, passed, share: share(passed, chats.length) }
    }),
  }
}

/** A record as compared: the checks as a map of passed. */
function shownOf(value: ReturnType<typeof chatQualityCodec.decode>): Shown {
  const plain = JSON.parse(JSON.stringify(value)) as Record<string, unknown> & {
    checks: { check: string; passed: boolean }[]
  }
  const { channel: _channel, rule_set_version: _version, computed_at: _at, checks, ...rest } = plain
  return {
    ...(rest as Omit<Shown, 'checks'>),
    checks: Object.fromEntries(checks.map((c) => [c.check, c.passed])),
  }
}

/** Figures as compared: the histogram left out (its quantiles are compared). */
function strip(f: QualityFigures) {
  const { histogram: _histogram, ...firstResponse } = f.first_response
  return { ...f, first_response: firstResponse }
}

describe('chat quality, from the simulator to its topic and HTTP API', () => {
  let sim: RunningSimulator
  const server = newServerCode()
  const name = uniqueName('quality-e2e')
  const output = uniqueName('quality-e2e-output')
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'quality-e2e-test' })
  const admin = kafka.admin()
  const running: ChatQualityService[] = []

  const start = async () => {
    const service = createChatQuality({
      name,
      logger: createLogger({ name: 'quality-e2e', level: 'silent' }),
      env: {
        KAFKA_BROKERS: brokers,
        REDIS_URL: redisUrl,
        HTTP_PORT: '0',
        QUALITY_OUTPUT_TOPIC: output,
        QUALITY_SWEEP_INTERVAL: '500ms',
        CONSUMER_SESSION_TIMEOUT: '6s',
        CONSUMER_HEARTBEAT_INTERVAL: '1s',
        CONSUMER_RETRY_MAX_BACKOFF: '1s',
        WOLKVOX_TIMEZONE: ZONE,
      },
    })
    running.push(service)
    await service.start()
    return service
  }
  const records = async () =>
    (await readTopicToEnd(kafka, output))
      .filter((r) => r.key?.toString('utf8').startsWith(`${server}|`))
      .map((r) => ({ key: r.key!.toString('utf8'), value: chatQualityCodec.decode(r.value!) }))
  const latest = async () => {
    const out = new Map<string, Shown>()
    for (const r of await records()) out.set(r.key, shownOf(r.value))
    return out
  }
  const differing = (got: ReadonlyMap<string, Shown>, want: ReadonlyMap<string, Shown>) =>
    [...want].filter(([key, value]) => JSON.stringify(got.get(key)) !== JSON.stringify(value))

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 40, seed: 2104 })
    await admin.connect()
  })

  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop().catch(() => undefined)))
    await admin.disconnect()
    await sim?.close()
  })

  it('writes what the simulator meant for every chat, and the per-agent figures add up', async () => {
    const poll = await runPoller(
      ['once'],
      pollerEnv({
        server,
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers: brokers,
        redisUrl,
        extra: { POLL_START: '8h' },
      }),
    )
    expect(poll.code, poll.stderr).toBe(0)
    const { window } = JSON.parse(poll.stdout.trim()) as { window: { from: string; to: string } }
    const truth = sim.truth({ from: new Date(window.from), to: new Date(window.to) })
    const want = new Map(
      truth.expectations.map((e) => [`${server}|${e.conn_id}`, expectedRecord(server, e)]),
    )
    expect(want.size).toBe(truth.chatCount)
    expect(want.size).toBeGreaterThan(100)
    // The data exercises every figure: slow and fast answers, bot handoffs, skipped steps.
    const all = [...want.values()]
    expect(all.some((c) => c.meets_first_response === false)).toBe(true)
    expect(all.some((c) => c.meets_first_response === true)).toBe(true)
    expect(all.some((c) => c.handoff_ms !== null)).toBe(true)
    for (const check of CHECKS.slice(0, 4)) expect(all.some((c) => !c.checks[check])).toBe(true)

    const one = await start()
    const port = one.httpPort()!
    await waitFor(async () => differing(await latest(), want).length === 0, {
      timeoutMs: 90_000,
      what: 'the output topic to hold what the simulator meant for every chat',
    }).catch(async (error: unknown) => {
      const got = await latest()
      const [key, value] = differing(got, want)[0]!
      expect({ key, value: got.get(key) }).toEqual({ key, value })
      throw error
    })
    const first = await records()
    // One record per chat: complete chats are written once.
    expect(first.length).toBe(want.size)

    // Per agent: the totals and every local day equal the expectations grouped the same way.
    const byAgent = new Map<string, Shown[]>()
    for (const c of all) byAgent.set(c.agent_key, [...(byAgent.get(c.agent_key) ?? []), c])
    const agents = await getJson(port, `/operations/${server}/quality/agents`)
    expect(agents.status).toBe(200)
    const listed = agents.body.agents as { agent_key: string; totals: QualityFigures }[]
    expect(listed.map((a) => a.agent_key)).toEqual([...byAgent.keys()].sort())
    for (const a of listed)
      expect(strip(a.totals), a.agent_key).toEqual(expectedFigures(byAgent.get(a.agent_key)!))
    const [agentKey, chats] = [...byAgent].sort((a, b) => b[1].length - a[1].length)[0]!
    const days = await getJson(
      port,
      `/operations/${server}/quality/agents/${encodeURIComponent(agentKey)}?granularity=day`,
    )
    expect(days.status).toBe(200)
    const byDay = new Map<string, Shown[]>()
    for (const c of chats) {
      const start = new Date(dayWindow(Date.parse(c.started_at), ZONE).startMs).toISOString()
      byDay.set(start, [...(byDay.get(start) ?? []), c])
    }
    const windows = days.body.windows as (QualityFigures & { window_start: string })[]
    expect(windows.map((w) => w.window_start)).toEqual([...byDay.keys()].sort())
    for (const w of windows)
      expect(w.conversations, w.window_start).toBe(byDay.get(w.window_start)!.length)
    expect((await getJson(port, `/operations/${server}/quality/agents/nobody`)).body).toMatchObject(
      { error: { code: 'QUALITY_AGENT_NOT_FOUND' } },
    )
    expect(
      (await getJson(port, `/operations/${server}/quality/agents?granularity=week`)).body,
    ).toMatchObject({ error: { code: 'QUALITY_QUERY_INVALID' } })

    // One conversation over HTTP: the record's figures, marked emitted.
    const [key, record] = [...want].find(([, c]) => c.handoff_ms !== null)!
    const connId = key.slice(server.length + 1)
    const conv = await getJson(
      port,
      `/operations/${server}/quality/conversations/${encodeURIComponent(connId)}`,
    )
    expect(conv.status).toBe(200)
    expect(conv.body.emitted).toBe(true)
    expect(conv.body.first_response_ms).toBe(record.first_response_ms)
    expect(conv.body.handoff_ms).toBe(record.handoff_ms)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(metrics).toMatch(/wolkvox_quality_emitted_total\{reason="complete"[^}]*\} [1-9]/u)

    // A late agent message answering the last customer turn of a chat that ended unanswered: the
    // chat is written again with the new figures, and its counters move (no new conversation).
    const events = (await chatMessagesOf(brokers, server)).filter((e) =>
      want.has(topicKeys.serverConnId(e)),
    )
    const target = all.find((c) => c.last_turn_unanswered && c.messages.agent > 0)!
    const lastOf = events
      .filter((e) => e.conn_id === target.conn_id)
      .sort((a, b) => b.position - a.position)[0]!
    const late: ChatMessage = {
      ...lastOf,
      event_id: 'feedfacefeedfacefeedfacefeedface',
      sender: 'agent',
      message: 'Con gusto, hasta luego',
      sent_at: new Date(lastOf.sent_at.getTime() + 30_000),
      position: lastOf.conversation_length,
      conversation_length: lastOf.conversation_length + 1,
    }
    await produceEvents(kafka, INPUT, [late])
    const changedKey = `${server}|${target.conn_id}`
    await waitFor(async () => (await latest()).get(changedKey)?.last_turn_unanswered === false, {
      timeoutMs: 30_000,
      what: 'the changed chat to be written again',
    })
    const changed = (await latest()).get(changedKey)!
    expect(changed.messages).toEqual({ ...target.messages, agent: target.messages.agent + 1 })
    expect(changed.response_gaps_ms.length).toBe(target.response_gaps_ms.length + 1)
    expect(changed.ended_at).toBe(new Date(Date.parse(target.ended_at) + 30_000).toISOString())
    want.set(changedKey, changed)
    const moved = await getJson(port, `/operations/${server}/quality/agents`)
    const movedTotals = (moved.body.agents as { agent_key: string; totals: QualityFigures }[]).find(
      (a) => a.agent_key === target.agent_key,
    )!.totals
    const peers = [...want.values()].filter((c) => c.agent_key === target.agent_key)
    expect(movedTotals.conversations).toBe(peers.length)
    expect(movedTotals.response_gaps).toEqual(expectedFigures(peers).response_gaps)

    // A replay from the start, the events re-published at new offsets (a re-poll) and a second
    // instance joining (a rebalance) change no record and no figure.
    const before = (await records()).length
    expect(before).toBe(first.length + 1)
    const answer = await getJson(port, `/operations/${server}/quality/agents`)
    for (const s of running.splice(0)) await s.stop()
    await admin.resetOffsets({ groupId: name, topic: INPUT, earliest: true })
    await produceEvents(kafka, INPUT, events.slice(0, 300))
    const again = await start()
    const second = await start()
    await waitFor(
      async () => {
        const ends = await admin.fetchTopicOffsets(INPUT)
        const [found] = await admin.fetchOffsets({ groupId: name, topics: [INPUT] })
        return ends.every(
          (end) =>
            Number(found?.partitions.find((p) => p.partition === end.partition)?.offset) ===
            Number(end.high),
        )
      },
      { timeoutMs: 60_000, what: 'the replay and the duplicates to be committed' },
    )
    await waitFor(() => again.status().assigned.length > 0 && second.status().assigned.length > 0, {
      what: 'both instances to own partitions',
    })
    const skipped = again.status().stats.duplicates + second.status().stats.duplicates
    expect(skipped).toBeGreaterThanOrEqual(events.length + 300)
    const after = await getJson(again.httpPort()!, `/operations/${server}/quality/agents`)
    expect(after.body).toEqual(answer.body)
    // Stopping drains what is due (README: shutdown): after it, nothing more can be written.
    for (const s of running.splice(0)) await s.stop()
    expect((await records()).length).toBe(before)
    expect(differing(await latest(), want)).toEqual([])
  })
})
