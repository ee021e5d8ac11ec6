/*
 * When the trámite classifier emits, on the real broker and Redis: a chat is emitted once it is
 * complete (its last position seen); a chat without its last message waits for the idle timeout,
 * then is emitted with complete=false and counted; the missing message later re-emits it,
 * complete, and moves nothing twice. Duplicates of an incomplete chat change nothing.
 */
import { describe, expect, it } from 'vitest'
import { topicKeys, type ChatMessage } from '@wolkvox-chat-stream/events'
import { shippedRulesFile, type TramiteClassifier } from '@wolkvox-chat-stream/tramite-classifier'
import { datasetEvents, produceEvents } from '../support/chat-events.js'
import { useTramiteHarness } from '../support/tramite-harness.js'
import {
  expectedCounts,
  expectedRecords,
  getJson,
  latest,
  rulesOf,
} from '../support/tramite-reference.js'
import { waitFor } from '../support/wait-for.js'

describe('trámite classifier: complete chats and the idle timeout', () => {
  const harness = useTramiteHarness({ prefix: 'tramite-idle', inputPartitions: 3 })
  const { kafka, server, input, records, settle } = harness

  // Every third chat comes without its last message, held back for later.
  const events = datasetEvents(900, { seed: 47, server })
  const byChat = new Map<string, ChatMessage[]>()
  for (const e of events) byChat.set(e.conn_id, [...(byChat.get(e.conn_id) ?? []), e])
  const chats = [...byChat.values()].filter((chat) =>
    chat.some((m) => m.position === m.conversation_length - 1),
  )
  const held: ChatMessage[] = []
  const first: ChatMessage[] = []
  chats.forEach((chat, i) => {
    for (const m of chat) {
      if (i % 3 === 0 && m.position === m.conversation_length - 1) held.push(m)
      else first.push(m)
    }
  })
  const rules = rulesOf(shippedRulesFile)
  const before = expectedRecords(first, rules)
  const complete = new Map([...before].filter(([, r]) => r.complete))
  const incomplete = new Map([...before].filter(([, r]) => !r.complete))
  const final = expectedRecords([...first, ...held], rules)

  const start = (idle: string): Promise<TramiteClassifier> =>
    harness.start({ CLASSIFIER_IDLE_TIMEOUT: idle, CLASSIFIER_SWEEP_INTERVAL: '200ms' })
  const conversation = async (service: TramiteClassifier, key: string) => {
    const connId = key.slice(server.length + 1)
    return (
      await getJson(
        service.httpPort()!,
        `/operations/${server}/conversations/${encodeURIComponent(connId)}/tramite`,
      )
    ).body
  }

  it('emits complete chats at once, incomplete ones after the idle timeout, and again when they complete', async () => {
    expect(incomplete.size).toBeGreaterThan(10)
    expect(complete.size).toBeGreaterThan(20)
    // Duplicates of the incomplete chats' messages are part of the input from the start.
    const dup = first.filter((m) => incomplete.has(topicKeys.serverConnId(m))).slice(0, 40)
    await produceEvents(kafka, input, [...first, ...dup])

    // An hour of idle timeout: complete chats are emitted, incomplete ones wait.
    const patient = await start('1h')
    await settle(complete, 'the complete chats to be emitted')
    const emitted = latest(await records())
    expect([...incomplete.keys()].filter((k) => emitted.has(k))).toEqual([])
    const waiting = [...incomplete.keys()][0]!
    const { classified_at: _at, ...body } = await conversation(patient, waiting)
    expect(body).toEqual({ ...incomplete.get(waiting), emitted: false })
    const counted = await getJson(patient.httpPort()!, `/operations/${server}/tramites`)
    expect(counted.body.counts).toEqual(expectedCounts(complete.values()))
    await harness.stop(patient)

    // A second of idle timeout: the incomplete chats are emitted as they are, and counted.
    const eager = await start('1s')
    await settle(incomplete, 'the idle chats to be emitted, incomplete')
    await waitFor(
      async () =>
        JSON.stringify(
          (await getJson(eager.httpPort()!, `/operations/${server}/tramites`)).body.counts,
        ) === JSON.stringify(expectedCounts(before.values())),
      { what: 'the idle chats to be counted' },
    )
    const metrics = await (await fetch(`http://127.0.0.1:${eager.httpPort()}/metrics`)).text()
    expect(metrics).toMatch(/wolkvox_classifier_emitted_total\{reason="idle"[^}]*\} [1-9]/u)
    expect((await records()).filter((r) => incomplete.has(r.key)).length).toBe(incomplete.size)

    // Their last messages arrive: each is emitted again, complete; counts move, none doubles.
    await produceEvents(kafka, input, held)
    await settle(final, 'the completed chats to be emitted again')
    expect([...incomplete.keys()].every((k) => final.get(k)!.complete)).toBe(true)
    await waitFor(
      async () =>
        JSON.stringify(
          (await getJson(eager.httpPort()!, `/operations/${server}/tramites`)).body.counts,
        ) === JSON.stringify(expectedCounts(final.values())),
      { what: 'the counts of the completed chats' },
    )
    const all = await records()
    for (const key of incomplete.keys()) {
      expect(all.filter((r) => r.key === key).map((r) => r.value.complete)).toEqual([false, true])
    }
    expect(all.filter((r) => complete.has(r.key)).length).toBe(complete.size)
  })
})
