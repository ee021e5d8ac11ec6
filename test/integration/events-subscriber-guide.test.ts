/*
 * The subscriber's guide (schemas/README.md) is part of the contract: its TypeScript example is
 * type-checked and run as written against the real broker (duplicates, new revisions, older
 * revisions arriving late, v1 records), its fingerprint table is checked against the code, and every
 * field of every schema must be documented in it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  buildChatMessages,
  encodeChatMessage,
  fingerprintBytes,
  identifyFingerprint,
  schemaVersions,
  shippedFingerprints,
  topicKeys,
  topics,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import { createEventProducer, createKafkaClient, provisionTopics } from '@wolkvox-chat-stream/kafka'
import { uniqueName, waitFor } from '../support/wait-for.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const guide = readFileSync(join(root, 'schemas/README.md'), 'utf8')

function exampleCode(): string {
  const between = guide
    .split('<!-- subscriber-example:start -->')[1]
    ?.split('<!-- subscriber-example:end -->')[0]
  const code = /```ts\n([\s\S]*?)```/.exec(between ?? '')?.[1]
  if (code === undefined) throw new Error('schemas/README.md lacks the subscriber example block')
  return code
}

function section(title: string): string {
  const start = guide.indexOf(`## ${title}`)
  expect(start, title).toBeGreaterThanOrEqual(0)
  const end = guide.indexOf('\n## ', start + 3)
  return guide.slice(start, end === -1 ? undefined : end)
}

function events(
  connId: string,
  count: number,
  { feeling = 'neutral', polledAt = new Date() }: { feeling?: string; polledAt?: Date } = {},
): ChatMessage[] {
  return buildChatMessages(
    {
      conn_id: connId,
      agent_name: 'Ana',
      customer_name: 'Zoë',
      conversation: Array.from({ length: count }, (_, i) => ({
        channel: 'web',
        from: i % 2 ? 'AGENT' : 'CUSTOMER',
        from_name: i % 2 ? 'Ana' : 'Zoë',
        to_name: i % 2 ? 'Zoë' : 'Ana',
        date: `2025-02-11 10:00:${String(i).padStart(2, '0')}`,
        message: `mensaje ${i}`,
        customer_id: '1',
        feeling: i % 3 ? feeling : 'Very Negative',
      })),
    },
    {
      server: '0010',
      zone: 'America/Bogota',
      window: { start: new Date(0), end: new Date(0) },
      polledAt,
    },
  ).events
}

describe('the subscriber guide', () => {
  it('lists the fingerprints and header bytes the code writes', () => {
    const table = section('Encoding')
    const shipped = shippedFingerprints()
    expect(shipped.map((s) => s.record)).toEqual([
      'ChatMessage v1',
      'ChatMessage v2',
      'PollerCheckpoint v1',
      'AgentSentiment v1',
      'AgentSentiment v2',
      'TramiteClassification v1',
      'ChatQuality v1',
    ])
    for (const { record, fingerprint } of shipped) {
      const header = [
        'c3',
        '01',
        ...fingerprintBytes(BigInt.asIntN(64, BigInt(`0x${fingerprint}`)))
          .toString('hex')
          .match(/../g)!,
      ].join(' ')
      const row = table.split('\n').find((line) => line.includes(`\`${fingerprint}\``))
      expect(row, record).toBeDefined()
      expect(row).toContain(`\`${header}\``)
      expect(identifyFingerprint(BigInt.asIntN(64, BigInt(`0x${fingerprint}`)))).toBe(record)
    }
  })

  it('documents every field of every record', () => {
    const titles = {
      chatMessage: 'ChatMessage v2',
      pollerCheckpoint: 'PollerCheckpoint v1',
      agentSentiment: 'AgentSentiment v2',
      tramiteClassification: 'TramiteClassification v1',
      chatQuality: 'ChatQuality v1',
    } as const
    for (const [key, versions] of Object.entries(schemaVersions)) {
      const text = section(titles[key as keyof typeof titles])
      for (const { schema } of versions) {
        for (const field of schema.fields as { name: string }[]) {
          expect(text, `${titles[key as keyof typeof titles]}.${field.name}`).toContain(
            `| \`${field.name}\``,
          )
        }
      }
    }
    for (const topic of Object.values(topics)) expect(section('Topics')).toContain(topic.name)
  })

  it('tells subscribers to keep the latest revision, and readers to upgrade first', () => {
    const plain = (text: string): string => text.replace(/[`*]/g, '').replace(/\s+/g, ' ')
    const delivery = plain(section('Delivery'))
    expect(delivery).toContain('Keep the latest revision of an event_id.')
    expect(delivery).toContain('the latest revision wins, by polled_at')
    expect(delivery).toContain(
      'an unchanged re-read publishes nothing; a changed one publishes the message again with the same key and event_id',
    )
    expect(plain(section('Compatibility and roll-out rules'))).toContain(
      'upgrade every reader to v2 (and to keeping the latest revision) before any writer emits it',
    )
    expect(plain(section('ChatMessage v2'))).toContain(
      'a v2 reader reads a v1 record with revision ""',
    )
    const agentSentiment = plain(section('AgentSentiment v2'))
    expect(agentSentiment).toContain('sources, never mixed')
    expect(agentSentiment).toContain('a v2 reader reads a v1 record with both text fields null')
    expect(plain(section('Compatibility and roll-out rules'))).toContain(
      'SENTIMENT_AGENT_SENTIMENT_VERSION=1',
    )
  })

  describe('the TypeScript example', () => {
    const dir = join(root, 'test-artifacts', uniqueName('subscriber-guide'))
    let child: ChildProcess | undefined

    afterAll(() => {
      child?.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    })

    it('type-checks and runs as written: decodes, de-duplicates, prints every event', async () => {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'subscriber.ts'), exampleCode())
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: '../../tsconfig.base.json',
          compilerOptions: { noEmit: true },
          include: ['subscriber.ts'],
        }),
      )
      await promisify(execFile)(join(root, 'node_modules/.bin/tsc'), ['-p', dir], {
        timeout: 120_000,
      }).catch((error: { stdout?: string }) => {
        throw new Error(`The guide's example does not type-check:\n${error.stdout ?? ''}`)
      })

      const brokers = inject('kafkaBrokers')
      const topic = uniqueName('guide-chat-message')
      const kafka = createKafkaClient({ brokers: [brokers], clientId: 'guide-test' })
      // One partition, so that the last record read proves every earlier one was read.
      await provisionTopics(kafka, [{ ...topics.chatMessage, name: topic, partitions: 1 }], {
        create: true,
      })
      const t0 = new Date('2025-02-11T15:05:00Z')
      const t1 = new Date('2025-02-11T15:10:00Z')
      const t2 = new Date('2025-02-11T15:15:00Z')
      const firstId = uniqueName('chat')
      const first = events(firstId, 12, { feeling: '', polledAt: t0 })
      const second = events(uniqueName('chat'), 8, { polledAt: t0 })
      // Wolkvox recognised the feelings of the first chat later: the same event_ids, new revisions.
      const revised = events(firstId, 12, { feeling: 'negative', polledAt: t2 })
      // Another revision, polled before the one above but delivered after it: older, so skipped.
      const stale = events(firstId, 12, { feeling: 'positive', polledAt: t1 })
      const changed = revised.filter((event, i) => event.revision !== first[i]!.revision)
      expect(changed.length).toBeGreaterThan(4)
      expect(changed.every((event) => event.event_id === first[event.position]!.event_id)).toBe(
        true,
      )
      expect(changed.length).toBeLessThan(first.length) // "Very Negative" was there from the start
      const fromV1Writer = events(uniqueName('chat'), 3, { polledAt: t0 })
      const sentinel = events('sentinel', 1)
      const records = (list: ChatMessage[], version?: 1) =>
        list.map((event) => ({
          topic,
          key: topicKeys.chatMessage(event),
          value: encodeChatMessage(event, version === undefined ? {} : { version }),
        }))
      const producer = createEventProducer(kafka)
      await producer.connect()
      try {
        await producer.send(records([...first, ...second]))
        // A re-poll: the same events again, at new offsets.
        await producer.send(records([...first.slice(3, 9), ...second]))
        // A re-read that found new revisions publishes those messages again; the unchanged ones
        // are not published (the poller's promise), and a stale revision arrives late.
        await producer.send(records(changed))
        await producer.send(
          records(stale.filter((e) => e.revision !== first[e.position]!.revision)),
        )
        await producer.send(records([...changed.slice(0, 2)]))
        // A writer not yet upgraded: v1 records, read with revision "".
        await producer.send(records(fromV1Writer, 1))
        await producer.send(records(sentinel))
      } finally {
        await producer.disconnect()
      }

      let stdout = ''
      let stderr = ''
      child = spawn(join(root, 'node_modules/.bin/tsx'), ['--conditions=source', 'subscriber.ts'], {
        cwd: dir,
        env: { ...process.env, KAFKA_BROKERS: brokers, TOPIC: topic },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))

      await waitFor(() => stdout.includes('"conn_id":"sentinel"'), {
        what: 'the example to print the last event',
        timeoutMs: 90_000,
      }).catch((error: Error) => {
        throw new Error(`${error.message}; its stderr:\n${stderr.slice(-2000)}`)
      })
      // kafkajs's default logger writes its own JSON lines to stdout too.
      const printed = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => 'conn_id' in line)
      const expected = [
        ...first,
        ...second,
        ...changed,
        ...fromV1Writer.map((event) => ({ ...event, revision: '' })),
        ...sentinel,
      ].map((event) => ({
        conn_id: event.conn_id,
        position: event.position,
        sender: event.sender,
        sentiment: event.sentiment,
        sent_at: event.sent_at.toISOString(),
        revision: event.revision,
      }))
      expect(printed).toEqual(expected)
      expect(printed.filter((line) => line.sentiment === 'negative')).toHaveLength(changed.length)

      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      child = undefined
    })
  })
})
