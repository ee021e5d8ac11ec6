/*
 * The consumer service kit on the real broker and the run's private Redis, through a toy counting
 * consumer: each event applied once whatever is replayed or duplicated, a kill between storing and
 * committing, a group of three, poison messages, redrive, and the stop after too many failures.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  createConsumerService,
  createStateReader,
  deleteServiceState,
  readDeadLetters,
  redriveDeadLetters,
  summarizeDeadLetters,
  type ConsumerService,
} from '@wolkvox-chat-stream/service-kit'
import { datasetEvents, produceEvents, produceRaw } from '../support/chat-events.js'
import { runScript } from '../support/child-lines.js'
import { createTopic } from '../support/topics.js'
import {
  createToyCounter,
  expectedToyState,
  readToyState,
  toyEnv,
  type ToyOptions,
} from '../support/toy-counter.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')
const root = fileURLToPath(new URL('../../', import.meta.url))
const silent = createLogger({ name: 'toy', level: 'silent' })

describe('the consumer service kit', () => {
  let kafka: Kafka
  let admin: Admin
  let redis: Redis
  const running: ConsumerService[] = []
  const names: string[] = []
  const events = datasetEvents(240)

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: [brokers], clientId: 'service-kit-test' })
    admin = kafka.admin()
    await admin.connect()
    redis = createRedis(redisUrl, { name: 'service-kit-test' })
    await waitUntilReady(redis)
  })

  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop().catch(() => undefined)))
  })

  afterAll(async () => {
    for (const name of names) await deleteServiceState(redis, name)
    await admin.disconnect()
    await redis.quit()
  })

  const topicWith = async (partitions: number): Promise<string> => {
    const topic = uniqueName('kit-input')
    await createTopic(admin, topic, partitions)
    return topic
  }

  const toy = async (
    options: Omit<ToyOptions, 'brokers' | 'redisUrl'>,
  ): Promise<ConsumerService> => {
    if (!names.includes(options.name)) names.push(options.name)
    const service = createToyCounter({ logger: silent, ...options, brokers, redisUrl })
    running.push(service)
    await service.start()
    return service
  }

  const stateOf = (name: string) => readToyState(createStateReader({ redis, name }))

  const untilState = async (name: string, expected: object, what: string): Promise<void> => {
    await waitFor(async () => isDeepStrictEqual(await stateOf(name), expected), {
      what,
      timeoutMs: 45_000,
    }).catch(async (error: Error) => {
      expect(await stateOf(name), error.message).toEqual(expected)
    })
  }

  const committed = async (group: string, topic: string): Promise<number[]> => {
    const [found] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    return (found?.partitions ?? [])
      .sort((a, b) => a.partition - b.partition)
      .map((p) => Number(p.offset))
  }

  it('applies each event once: duplicates at new offsets and a replay of the whole topic change nothing', async () => {
    const topic = await topicWith(3)
    const name = uniqueName('toy-replay')
    // The poller's re-publish after a crash: the same events again, at new offsets.
    await produceEvents(kafka, topic, [...events, ...events.slice(0, 60)])
    const first = await toy({ name, input: topic })
    await untilState(name, expectedToyState(events), 'the first pass')
    await waitFor(() => first.status().stats.duplicates === 60, { what: 'the 60 duplicates' })
    expect(first.status().stats).toMatchObject({ applied: 240, duplicates: 60, deadLettered: 0 })
    const port = first.httpPort()!
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ ready: true })
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    expect(metrics).toContain(
      `wolkvox_consumer_messages_total{outcome="applied",service="${name}"} 240`,
    )
    expect(metrics).toContain(
      `wolkvox_consumer_messages_total{outcome="duplicate",service="${name}"} 60`,
    )
    await first.stop()

    // Back to the beginning of the topic: every message arrives again.
    await admin.resetOffsets({ groupId: name, topic, earliest: true })
    const second = await toy({ name, input: topic })
    await waitFor(() => second.status().stats.duplicates === 300, { what: 'the whole replay' })
    expect(second.status().stats).toMatchObject({ applied: 0, duplicates: 300 })
    expect(await stateOf(name)).toEqual(expectedToyState(events))
  })

  it('a consumer killed after storing state but before committing changes nothing on restart', async () => {
    const topic = await topicWith(1)
    const name = uniqueName('toy-kill')
    names.push(name)
    const some = events.slice(0, 120)
    await produceEvents(kafka, topic, some)
    const child = runScript('toy-counter-child.ts', [brokers, redisUrl, topic, name, '50'])
    const stored = await child.next('stored')
    expect(stored).toMatchObject({ partition: 0, lastOffset: '49', applied: 50 })
    await child.exited
    expect(child.process.signalCode).toBe('SIGKILL')
    // State holds the first 50 events; Kafka has no offset for the group.
    expect((await stateOf(name)).counts.messages).toBe(50)
    expect(await committed(name, topic)).toEqual([-1])

    const restarted = await toy({ name, input: topic })
    await untilState(name, expectedToyState(some), 'the restart to finish')
    await waitFor(async () => (await committed(name, topic))[0] === 120, { what: 'the commit' })
    expect(restarted.status().stats).toMatchObject({ applied: 70, duplicates: 50 })
  })

  it('three consumers in one group, joining and leaving, equal one', async () => {
    const topic = await topicWith(6)
    const name = uniqueName('toy-group')
    const waves = [events.slice(0, 80), events.slice(80, 160), events.slice(160)]
    const a = await toy({ name, input: topic })
    await produceEvents(kafka, topic, waves[0]!)
    const b = await toy({ name, input: topic })
    await produceEvents(kafka, topic, waves[1]!)
    const c = await toy({ name, input: topic })
    await waitFor(() => [a, b, c].every((s) => s.status().assigned.length > 0), {
      what: 'all three to hold partitions',
    })
    await b.stop()
    await produceEvents(kafka, topic, [...waves[2]!, ...waves[0]!])
    await untilState(name, expectedToyState(events), 'the group to finish')
    // Redis holds the last chunk a moment before its consumer reads the script's reply and counts.
    const total = (): number => [a, b, c].reduce((sum, s) => sum + s.status().stats.applied, 0)
    await waitFor(() => total() >= 240, { what: 'the last chunk to be counted' })
    expect(total()).toBe(240)
  })

  it('sends an undecodable message and a refused event to the DLQ with their origin, keeps the partition flowing, and redrives', async () => {
    const topic = await topicWith(1)
    const name = uniqueName('toy-dlq')
    const some = events.slice(0, 40)
    const refused = some[25]!
    await produceEvents(kafka, topic, some.slice(0, 20))
    await produceRaw(kafka, [{ topic, key: 'poison', value: Buffer.from('{"not":"avro"}') }])
    await produceEvents(kafka, topic, some.slice(20))
    const isRefused = (event: ChatMessage): boolean => event.event_id === refused.event_id
    const strict = await toy({ name, input: topic, refuse: isRefused })
    await untilState(name, expectedToyState(some.filter((e) => !isRefused(e))), 'the rest to flow')
    await waitFor(() => strict.status().stats.deadLettered === 2, { what: 'two dead letters' })
    expect(strict.ready).toBe(true)

    const letters = await readDeadLetters(kafka, name)
    expect(letters.map((l) => [l.topic, l.partition, l.originalOffset, l.errorCode])).toEqual([
      [topic, 0, '20', 'EVENT_NOT_SINGLE_OBJECT'],
      [topic, 0, '26', 'CONSUMER_EVENT_REJECTED'],
    ])
    expect(letters[0]!.key?.toString()).toBe('poison')
    expect(letters[0]!.value?.toString()).toBe('{"not":"avro"}')
    expect(letters[0]!.errorMessage).toMatch(/single-object/)
    expect(letters[1]!.key?.toString()).toBe(refused.conn_id)

    // The operator's view, through the command line.
    const list = await runCli(['dlq', 'list', name])
    expect(list).toContain(`wolkvox.${name}.dlq: 2 dead letters (2 records;`)
    expect(list).toContain(`, 2 not redriven`)
    expect(list).toContain('EVENT_NOT_SINGLE_OBJECT: 1')

    // A fixed deploy, then a redrive: the refused event counts now; the poison fails again.
    await strict.stop()
    const fixed = await toy({ name, input: topic })
    expect(await redriveDeadLetters(kafka, name)).toMatchObject({
      redriven: 2,
      byTarget: { [topic]: 2 },
    })
    await untilState(name, expectedToyState(some), 'the redriven event')
    await waitFor(() => fixed.status().stats.deadLettered === 1, { what: 'the poison again' })
    expect(await summarizeDeadLetters(kafka, name)).toMatchObject({ records: 3, pending: 1 })
    expect(await redriveDeadLetters(kafka, name)).toMatchObject({ redriven: 1 })
  })

  it('regression issue 25: a rebuild does not dead-letter again, and a redrive reaches only the service that dead-lettered', async () => {
    const topic = await topicWith(1)
    const picky = uniqueName('toy-picky')
    const other = uniqueName('toy-other')
    const some = events.slice(0, 40)
    const refused = some[10]!
    await produceEvents(kafka, topic, some.slice(0, 30))
    await produceRaw(kafka, [{ topic, key: 'poison', value: Buffer.from('{"not":"avro"}') }])
    await produceEvents(kafka, topic, some.slice(30))
    const isRefused = (event: ChatMessage): boolean => event.event_id === refused.event_id
    // Both dead-letter the poison; only `picky` refuses one event too.
    let strict = await toy({ name: picky, input: topic, refuse: isRefused })
    const bystander = await toy({ name: other, input: topic })
    await waitFor(() => strict.status().stats.deadLettered === 2, { what: "picky's 2 letters" })
    await waitFor(() => bystander.status().stats.deadLettered === 1, { what: "other's letter" })
    await untilState(other, expectedToyState(some), 'the other service to apply every event')

    // A rebuild replays the input: the same two records fail again, and nothing is sent twice.
    const rebuilt = await runCli(['rebuild', picky])
    expect(rebuilt).toContain(`Deleted wcs:{${picky}}:epoch`)
    await waitFor(() => strict.status().stats.deadLettered === 4 && strict.ready, {
      what: 'the rebuild to meet both poison records again',
      timeoutMs: 45_000,
    })
    expect(strict.status().stats.rebuilds).toBeGreaterThanOrEqual(1)
    expect(await readDeadLetters(kafka, picky)).toHaveLength(2)
    expect(await summarizeDeadLetters(kafka, picky)).toEqual({
      topic: `wolkvox.${picky}.dlq`,
      exists: true,
      records: 2,
      deadLetters: 2,
      pending: 2,
      byCode: { EVENT_NOT_SINGLE_OBJECT: 1, CONSUMER_EVENT_REJECTED: 1 },
    })

    // A fixed deploy of `picky`, then a redrive: both go back to the input topic marked for it.
    await strict.stop()
    strict = await toy({ name: picky, input: topic })
    const redrive = await runCli(['dlq', 'redrive', picky])
    expect(redrive).toContain(`wolkvox.${picky}.dlq: 2 dead letters redriven for ${picky} only`)
    await untilState(picky, expectedToyState(some), 'the redriven event applied by picky')
    // The poison fails again in `picky` (one new dead letter, of its new origin)...
    await waitFor(() => strict.status().stats.deadLettered === 1, { what: 'the poison again' })
    expect(await summarizeDeadLetters(kafka, picky)).toMatchObject({
      records: 3,
      deadLetters: 3,
      pending: 1,
    })
    // ...while the other service passes both copies over, dead-lettering nothing.
    await waitFor(() => bystander.status().stats.duplicates === 2, {
      what: 'the other service to pass the 2 redriven copies over',
    })
    expect(bystander.status().stats).toMatchObject({ applied: 40, deadLettered: 1, duplicates: 2 })
    expect(await readDeadLetters(kafka, other)).toHaveLength(1)
    expect(await stateOf(other)).toEqual(expectedToyState(some))
    await waitFor(async () => (await committed(other, topic))[0] === 43, {
      what: 'the other service to commit past both copies',
    })
  })

  it('operator commands refuse a service name they do not know, listing the known ones', async () => {
    const name = uniqueName('toy-known')
    const topic = await topicWith(1)
    await produceEvents(kafka, topic, events.slice(0, 5))
    await toy({ name, input: topic })
    for (const args of [
      ['rebuild', 'no-such-service'],
      ['dlq', 'list', 'no-such-service'],
      ['dlq', 'redrive', 'no-such-service'],
    ]) {
      const { code, out } = await runCliRaw(args)
      expect(code, out).toBe(1)
      expect(out).toContain(
        'CONSUMER_SERVICE_UNKNOWN: No consumer service is called "no-such-service"',
      )
      expect(out).toMatch(new RegExp(`Known services: .*\\b${name}\\b`))
    }
  })

  it('a handleBatch service with a Lua function: the event that fails a batch is found and dead-lettered alone', async () => {
    const topic = await topicWith(1)
    const name = uniqueName('batch')
    names.push(name)
    const some = events.slice(0, 60)
    const refused = some[17]!
    await produceEvents(kafka, topic, some)
    const service = createConsumerService({
      name,
      input: topic,
      env: toyEnv({ brokers, redisUrl }),
      logger: silent,
      scripts: {
        keepMax: `-- KEYS[1] a hash; ARGV[1] a field, ARGV[2] a number: keeps the larger number.
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '')
if current == nil or tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end`,
      },
      handleBatch(batch, ctx) {
        if (batch.some((d) => d.event.event_id === refused.event_id)) {
          throw new AppError('CONSUMER_EVENT_REJECTED', 'the batch refuses one event')
        }
        for (const { event } of batch) {
          ctx.state.hincrby('counts', 'messages')
          ctx.state.lua('keepMax', ['last'], [event.conn_id, event.sent_at.getTime()])
        }
      },
    })
    running.push(service)
    await service.start()
    await waitFor(() => service.status().stats.applied === 59, { what: 'the batch' })
    const reader = createStateReader({ redis, name })
    expect(await reader.sumHash('counts')).toEqual({ messages: 59 })
    const latest = new Map<string, number>()
    for (const event of some) {
      if (event.event_id === refused.event_id) continue
      latest.set(event.conn_id, Math.max(latest.get(event.conn_id) ?? 0, event.sent_at.getTime()))
    }
    expect(await reader.sumHash('last')).toEqual(Object.fromEntries(latest))
    const letters = await readDeadLetters(kafka, name)
    expect(letters.map((l) => [l.originalOffset, l.errorCode])).toEqual([
      ['17', 'CONSUMER_EVENT_REJECTED'],
    ])
  })

  it('stops with a clear error after too many dead letters in a row, committing only what it handled', async () => {
    const topic = await topicWith(1)
    const name = uniqueName('toy-stop')
    await produceEvents(kafka, topic, events.slice(0, 8))
    const broken = await toy({
      name,
      input: topic,
      refuse: () => true,
      env: { CONSUMER_MAX_CONSECUTIVE_FAILURES: '3' },
    })
    const error = await broken.done.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'CONSUMER_TOO_MANY_FAILURES' })
    expect((error as Error).message).toContain(`3 messages in a row went to wolkvox.${name}.dlq`)
    expect(broken.status()).toMatchObject({ phase: 'failed', ready: false })
    expect(await readDeadLetters(kafka, name)).toHaveLength(3)
    expect(await committed(name, topic)).toEqual([3])
  })
})

/** Runs the operator command line as an operator would (`npm run consumer -- …`). */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { code, out } = await runCliRaw(args, env)
  if (code !== 0) throw new Error(`consumer ${args.join(' ')} exited with ${code}:\n${out}`)
  return out
}

/** The same, with its exit code. */
async function runCliRaw(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', 'packages/service-kit/src/cli.ts', ...args],
    {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: brokers, REDIS_URL: redisUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return { code, out }
}
