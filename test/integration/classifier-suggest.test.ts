/*
 * `npm run classifier -- suggest` on the real broker: chats of a fresh operation on a topic of
 * their own, some the shipped rules classify and some with no trámite sharing a made-up phrase
 * («antena parabólica»). The command counts the phrase in exactly the chats that hold it (not an
 * agent's line, not another day or operation), suggests no term the rules already have, and
 * `--check` with a draft that adds the phrase moves exactly those chats; a broken draft exits 1
 * with its code before the topic is read.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildChatMessages, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import {
  classifyConversation,
  compileRules,
  evaluate,
  loadEvalSet,
  loadRules,
  shippedRulesFile,
} from '@wolkvox-chat-stream/tramite-classifier'
import { produceEvents } from '../support/chat-events.js'
import { newServerCode } from '../support/poller-harness.js'
import { runClassifierCli } from '../support/tramite-cli.js'
import { createTopic } from '../support/topics.js'
import { uniqueName } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')

type Line = [from: 'CUSTOMER' | 'AGENT', time: string, message: string]

/** One chat's events, as the poller builds them, on local day `day` of Bogotá. */
function chat(server: string, connId: string, day: string, lines: Line[]): ChatMessage[] {
  const { events, rejected } = buildChatMessages(
    {
      conn_id: connId,
      agent_name: 'Ana',
      customer_name: 'Zoë',
      conversation: lines.map(([from, time, message]) => ({
        channel: 'whatsapp',
        from,
        from_name: from === 'CUSTOMER' ? 'Zoë' : 'Ana',
        to_name: from === 'CUSTOMER' ? 'Ana' : 'Zoë',
        date: `${day} ${time}`,
        message,
        customer_id: '573001234567',
      })),
    },
    {
      server,
      zone: 'America/Bogota',
      window: { start: new Date(`${day}T05:00:00Z`), end: new Date(`${day}T23:00:00Z`) },
      polledAt: new Date(),
    },
  )
  expect(rejected).toEqual([])
  return events
}

describe('classifier suggest', () => {
  const server = newServerCode()
  const other = newServerCode()
  const topic = uniqueName('classifier-suggest-input')
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'classifier-suggest-test' })
  const admin = kafka.admin()
  const dir = mkdtempSync(join(tmpdir(), 'classifier-suggest-'))
  const env = { KAFKA_BROKERS: brokers, CONSUMER_INPUT_TOPIC: topic, LOG_LEVEL: 'warn' }
  const day = '2025-03-04'
  const id = (name: string) => `${name}-${server}`

  const a1 = 'Hola, la antena parabolica no coge la señal del partido'
  const a2 = 'Buenas, mi antena parabólica quedó torcida después de la tormenta'
  const a3 = 'LA ANTENA PARABOLICA se movió con el viento'
  const chats = {
    // No trámite, the phrase in the customer's words (with and without accents, shouting).
    a1: chat(server, id('a1'), day, [
      ['AGENT', '10:00:00', 'Buenos días, ¿en qué le puedo ayudar?'],
      ['CUSTOMER', '10:00:10', a1],
      ['CUSTOMER', '10:00:20', 'gracias'],
    ]),
    a2: chat(server, id('a2'), day, [['CUSTOMER', '10:05:00', a2]]),
    a3: chat(server, id('a3'), day, [
      ['CUSTOMER', '10:10:00', a3],
      ['AGENT', '10:10:30', 'Listo, ya le envío un técnico'],
    ]),
    // No trámite, the phrase only in the agent's words: not a customer term.
    b4: chat(server, id('b4'), day, [
      ['CUSTOMER', '10:15:00', 'buenas noches, a qué hora abren la oficina'],
      ['AGENT', '10:15:30', '¿La antena parabólica está bien instalada?'],
    ]),
    // Certificates: `certificado` and `constancia` are rule terms; `afiliación` is not.
    c1: chat(server, id('c1'), day, [
      ['CUSTOMER', '10:20:00', 'Buenas tardes, necesito un certificado de afiliación'],
    ]),
    c2: chat(server, id('c2'), day, [
      ['CUSTOMER', '10:25:00', 'me pueden enviar el certificado de afiliacion a la eps'],
    ]),
    c3: chat(server, id('c3'), day, [['CUSTOMER', '10:30:00', 'necesito una constancia laboral']]),
    // The phrase on another day, and in another operation: outside what is asked.
    d5: chat(server, id('d5'), '2025-03-10', [
      ['CUSTOMER', '09:00:00', 'la antena parabolica otra vez'],
    ]),
    e6: chat(other, id('e6'), day, [['CUSTOMER', '10:00:00', 'antena parabolica dañada']]),
  }
  const all = Object.values(chats).flat()
  const inRange = [chats.a1, chats.a2, chats.a3, chats.b4, chats.c1, chats.c2, chats.c3]

  const shipped = JSON.parse(readFileSync(shippedRulesFile, 'utf8')) as {
    version: string
    tramites: { id: string; phrases?: string[] }[]
  }
  const draftFile = join(dir, 'draft.json')
  const brokenFile = join(dir, 'broken.json')

  beforeAll(async () => {
    await admin.connect()
    await createTopic(admin, topic, 2)
    await produceEvents(kafka, topic, all)
    writeFileSync(
      draftFile,
      JSON.stringify({
        ...shipped,
        version: `${shipped.version}-draft`,
        tramites: shipped.tramites.map((t) =>
          t.id === 'soporte-tecnico'
            ? { ...t, phrases: [...(t.phrases ?? []), 'antena parabolica'] }
            : t,
        ),
      }),
    )
    writeFileSync(brokenFile, '{ "version": "x", "tramites": [')
  })

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await admin.disconnect()
  })

  it('the shipped rules classify the chats as the test expects', () => {
    const rules = compileRules(loadRules(shippedRulesFile))
    const primary = (events: ChatMessage[]) =>
      classifyConversation(
        rules,
        events.map((e) => ({ text: e.message, sender: e.sender, position: e.position })),
      ).primary
    expect(inRange.map(primary)).toEqual([
      null,
      null,
      null,
      null,
      'certificado',
      'certificado',
      'certificado',
    ])
  })

  it('lists the phrase of the unclassified chats with exact counts, and no term the rules have', async () => {
    const run = await runClassifierCli(
      ['suggest', '--from', day, '--to', day, '--server', server, '--examples', '2', '--json'],
      env,
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/read 13 messages, 11 in range, 7 chats/u)
    const report = JSON.parse(run.stdout) as {
      unclassified: { term: string; chats: number; messages: number }[]
      tramites: { id: string; chats: number; terms: { term: string }[] }[]
    }
    expect(report).toMatchObject({
      rules: { file: shippedRulesFile, version: shipped.version },
      from: '2025-03-04T05:00:00.000Z',
      to: '2025-03-05T04:59:59.999Z',
      server,
      messages_read: all.length,
      messages_in_range: 11,
      chats: 7,
      unclassified_chats: 4,
    })
    // Three chats: not the agent's line (b4), not another day (d5) or operation (e6).
    expect(report.unclassified.slice(0, 4)).toEqual([
      { term: 'antena', chats: 3, messages: 3, examples: [a1, a2], in_rules: [] },
      { term: 'antena parabolica', chats: 3, messages: 3, examples: [a1, a2], in_rules: [] },
      { term: 'parabolica', chats: 3, messages: 3, examples: [a1, a2], in_rules: [] },
      expect.objectContaining({ chats: 1, messages: 1 }),
    ])
    expect(report.unclassified.map((t) => t.term)).not.toContain('la antena parabolica')
    // Certificates: `certificado` (certificad*) and its phrases are covered; afiliación is not.
    const certificado = report.tramites.find((t) => t.id === 'certificado')
    expect(certificado).toEqual({
      id: 'certificado',
      label: expect.any(String),
      chats: 3,
      terms: [{ term: 'afiliacion', chats: 2, all_chats: 2, lift: 2.333 }],
    })
    for (const t of report.tramites)
      if (t.id !== 'certificado') expect(t, t.id).toMatchObject({ chats: 0, terms: [] })
  })

  it('checks a draft: the labelled splits side by side, and exactly the chats that change', async () => {
    const run = await runClassifierCli(
      ['suggest', '--check', draftFile, '--from', day, '--to', day, '--server', server],
      env,
    )
    expect(run.code, run.stderr).toBe(0)
    const report = JSON.parse(run.stdout) as {
      labelled: { split: string; file: string; current: unknown; draft: unknown }[]
    }
    expect(report).toMatchObject({
      rules: { file: shippedRulesFile, version: shipped.version },
      draft: { file: draftFile, version: `${shipped.version}-draft` },
      topic: {
        from: '2025-03-04T05:00:00.000Z',
        to: '2025-03-05T04:59:59.999Z',
        server,
        messages_read: all.length,
        messages_in_range: 11,
        chats: 7,
        changed: 3,
        transitions: [
          {
            from: null,
            to: 'soporte-tecnico',
            chats: 3,
            examples: [
              { server, conn_id: id('a1'), message: a1 },
              { server, conn_id: id('a2'), message: a2 },
              { server, conn_id: id('a3'), message: a3 },
            ],
          },
        ],
      },
    })
    // The tuned split scored as `eval` scores it.
    const tuned = report.labelled.find((s) => s.split === 'tuned')!
    const expected = evaluate(compileRules(loadRules(shippedRulesFile)), loadEvalSet(tuned.file))
    expect(tuned.current).toMatchObject({
      true_positives: expected.micro.truePositives,
      false_positives: expected.micro.falsePositives,
      false_negatives: expected.micro.falseNegatives,
      f1: expected.micro.f1,
      exact_match: expected.exactMatch,
    })
    // The held-out split too, when the project has one; the draft's phrase is in neither.
    for (const split of report.labelled) expect(split.draft, split.split).toEqual(split.current)

    // Without a range: the last 7 days, which hold none of these chats.
    const recent = await runClassifierCli(
      ['suggest', '--check', draftFile, '--server', server],
      env,
    )
    expect(recent.code, recent.stderr).toBe(0)
    const topicPart = (JSON.parse(recent.stdout) as { topic: { from: string; to: string } }).topic
    expect(topicPart).toMatchObject({ chats: 0, changed: 0, transitions: [] })
    expect(Date.parse(topicPart.to) - Date.parse(topicPart.from)).toBe(7 * 86_400_000)
  })

  it('refuses a broken draft with its code before reading the topic, and bad options', async () => {
    // An unreachable broker: the draft is refused before any connection is tried.
    const broken = await runClassifierCli(['suggest', '--check', brokenFile], {
      ...env,
      KAFKA_BROKERS: '127.0.0.1:1',
    })
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('TRAMITE_RULES_INVALID')
    expect(broken.stderr).toContain(brokenFile)
    expect(broken.stdout).toBe('')

    const noRange = await runClassifierCli(['suggest', '--server', server], env)
    expect(noRange.code).toBe(1)
    expect(noRange.stderr).toContain('TRAMITE_COMMAND_INVALID')
  })
})
