/*
 * The trámite classifier end to end on the real broker and Redis: the simulator's chats, polled by
 * the poller over real HTTP onto wolkvox.chat.message.v1, classified by the service; its output
 * topic and HTTP answers equal a reference whose trámites are the ones the simulator's ground truth
 * says each chat's customer names (test/support/tramite-reference.ts). Then a replay from the
 * start, re-published duplicates and a second instance (a rebalance) change no record and no count.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { topicKeys, type ChatMessage } from '@wolkvox-chat-stream/events'
import { paths, shippedRulesFile } from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { produceEvents } from '../support/chat-events.js'
import { chatMessagesOf, pollerEnv } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { useTramiteHarness } from '../support/tramite-harness.js'
import {
  differences,
  expectedCounts,
  expectedRecords,
  getJson,
  KNOWN_RULE_MISSES,
  namedBy,
  rulesOf,
  topicRecords,
  truthEvents,
} from '../support/tramite-reference.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-tramite-e2e-token-5d21'
const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

describe('the trámite classifier, from the simulator to its topic and HTTP API', () => {
  let sim: RunningSimulator

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 40, seed: 83 })
  })

  afterAll(async () => {
    await sim?.close()
  })

  // Registered after the simulator's hooks: set up after it, torn down before it.
  const harness = useTramiteHarness({ prefix: 'tramite-e2e' })
  const { kafka, admin, server, name, output, topicLatest, stop } = harness
  const start = () =>
    harness.start({
      LOG_LEVEL: 'silent',
      CLASSIFIER_SWEEP_INTERVAL: '500ms',
      CONSUMER_RETRY_MAX_BACKOFF: '1s',
    })

  it('classifies every polled chat as the reference does, and a replay changes nothing', async () => {
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
    const rules = rulesOf(shippedRulesFile)
    const polled = truthEvents(truth, server)
    const expected = expectedRecords(polled, rules)
    expect(expected.size).toBe(truth.chatCount)
    expect(expected.size).toBeGreaterThan(100)
    // The reference's trámites are the truth's: each chat's intended trámites, and the messages
    // naming them, are what the reference reads from its events; its primary is the intended one
    // but where a documented product gap decides (a known-missed line, an image's noise).
    const chatsOf = new Map<string, ChatMessage[]>()
    for (const e of polled) chatsOf.set(e.conn_id, [...(chatsOf.get(e.conn_id) ?? []), e])
    let gaps = 0
    for (const e of truth.expectations) {
      const chat = chatsOf.get(e.conn_id)!.sort((a, b) => a.position - b.position)
      expect([...namedBy(chat)], e.conn_id).toEqual(
        e.intended_tramites.map((t) => [t.rule_id, t.messages.map((i) => chat[i]!.event_id)]),
      )
      const record = expected.get(`${server}|${e.conn_id}`)!
      if (record.primary_tramite === (e.intended_tramites[0]?.rule_id ?? null)) continue
      gaps += 1
      expect(
        chat.some((m) => KNOWN_RULE_MISSES.has(m.message) || m.extra.message_type === 'image'),
        e.conn_id,
      ).toBe(true)
    }
    expect(gaps).toBeLessThan(truth.chatCount / 100)
    // The data exercises the rules: several trámites, and chats with none.
    const primaries = new Set([...expected.values()].map((r) => r.primary_tramite))
    expect(primaries.size).toBeGreaterThan(5)
    expect(primaries.has(null)).toBe(true)
    expect([...expected.values()].every((r) => r.complete)).toBe(true)

    const one = await start()
    const port = one.httpPort()!
    await waitFor(async () => differences(await topicLatest(), expected).length === 0, {
      timeoutMs: 60_000,
      what: 'the output topic to hold the reference classification of every chat',
    }).catch(async (error: unknown) => {
      const got = await topicLatest()
      const first = differences(got, expected)[0]!
      expect({ key: first, value: got.get(first) }).toEqual({
        key: first,
        value: expected.get(first),
      })
      throw error
    })

    const counts = expectedCounts(expected.values())
    const days = counts.map((c) => c.day)
    const answer = await getJson(port, `/operations/${server}/tramites`)
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({
      server,
      rules_version: rules.version,
      from: null,
      to: null,
      channel: null,
      counts,
    })
    const totals = answer.body.totals as { tramite: string | null; conversations: number }[]
    expect(totals.reduce((n, t) => n + t.conversations, 0)).toBe(expected.size)
    for (const t of totals) {
      expect(t.conversations).toBe(
        [...expected.values()].filter((r) => r.primary_tramite === t.tramite).length,
      )
    }
    // A day and channel filter answers the matching lines only.
    const channel = counts[0]!.channel
    const filtered = await getJson(
      port,
      `/operations/${server}/tramites?from=${days[0]}&to=${days[0]}&channel=${channel.toUpperCase()}`,
    )
    expect(filtered.body).toMatchObject({
      from: days[0],
      to: days[0],
      channel,
      counts: counts.filter((c) => c.day === days[0] && c.channel === channel),
    })
    expect(
      (await getJson(port, `/operations/${server}/tramites?from=2025-02-30`)).body,
    ).toMatchObject({ error: { code: 'TRAMITE_QUERY_INVALID' } })

    // One conversation over HTTP: the same classification, marked emitted.
    const [key, record] = [...expected].find(([, r]) => r.explanations.length > 1)!
    const connId = key.slice(server.length + 1)
    const one1 = await getJson(
      port,
      `/operations/${server}/conversations/${encodeURIComponent(connId)}/tramite`,
    )
    expect(one1.status).toBe(200)
    const { classified_at: _at, ...body } = one1.body
    expect(body).toEqual({ ...record, emitted: true })
    expect((await getJson(port, `/operations/${server}/conversations/nope/tramite`)).body).toEqual({
      error: {
        code: 'TRAMITE_CONVERSATION_NOT_FOUND',
        message: `No conversation nope in operation ${server}`,
      },
    })
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(metrics).toContain(`wolkvox_classifier_rules_info{version="${rules.version}"`)
    expect(metrics).toMatch(/wolkvox_classifier_emitted_total\{reason="complete"[^}]*\} [1-9]/u)

    // A replay from the start, and the server's events re-published at new offsets (a re-poll),
    // change no record and no count; nor does a second instance joining (a rebalance).
    const before = (await topicRecords(kafka, output, server)).length
    await stop(one)
    await admin.resetOffsets({ groupId: name, topic: 'wolkvox.chat.message.v1', earliest: true })
    const events = (await chatMessagesOf(brokers, server)).filter((e) =>
      expected.has(topicKeys.serverConnId(e)),
    )
    await produceEvents(kafka, 'wolkvox.chat.message.v1', events.slice(0, 300))
    const again = await start()
    const second = await start()
    await waitFor(
      async () => {
        const ends = await admin.fetchTopicOffsets('wolkvox.chat.message.v1')
        const [found] = await admin.fetchOffsets({
          groupId: name,
          topics: ['wolkvox.chat.message.v1'],
        })
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
    // Every event of the server was skipped by the kit: the stored offsets and event_ids.
    const skipped = again.status().stats.duplicates + second.status().stats.duplicates
    expect(skipped).toBeGreaterThanOrEqual(events.length + 300)
    // Everything the replay stored is committed; a chat it changed would be marked for emitting
    // in the same script, and the emitter clears a mark only once it wrote (or found nothing new
    // to write for) that chat. No mark left on any partition: whatever the replay, the duplicates
    // and the rebalance made the service write is on the topic by now, and it is nothing new.
    await waitFor(
      async () =>
        (await again.state.collect(paths.dirty, (redis, key) => redis.hlen(key))).every(
          (marks) => marks === 0,
        ),
      { what: 'no chat left marked for emitting after the replay' },
    )
    expect((await topicRecords(kafka, output, server)).length).toBe(before)
    expect(differences(await topicLatest(), expected)).toEqual([])
    const after = await getJson(again.httpPort()!, `/operations/${server}/tramites`)
    expect(after.body).toEqual(answer.body)
  })
})
