/*
 * The consumer service kit when Redis misbehaves, on a redis-server of this file's own (with
 * append-only persistence, so a restart keeps the data): Redis away for a few seconds, Redis
 * flushed while the consumer runs, and the operator's `rebuild`.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createKafkaClient, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, scanKeys, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  createStateReader,
  readDeadLetters,
  type ConsumerService,
} from '@wolkvox-chat-stream/service-kit'
import { datasetEvents, produceEvents } from '../support/chat-events.js'
import { createTopic } from '../support/topics.js'
import { createToyCounter, expectedToyState, readToyState } from '../support/toy-counter.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')
const root = fileURLToPath(new URL('../../', import.meta.url))
const silent = createLogger({ name: 'toy', level: 'silent' })

describe('the consumer service kit when Redis misbehaves', () => {
  let server: RedisServer
  let redis: Redis
  let kafka: Kafka
  let admin: Admin
  const events = datasetEvents(240, { seed: 11 })
  const services: ConsumerService[] = []

  beforeAll(async () => {
    server = await startRedisServer({ appendOnly: true })
    redis = createRedis(server.url, { name: 'service-kit-redis-test' })
    await waitUntilReady(redis)
    kafka = createKafkaClient({ brokers: [brokers], clientId: 'service-kit-redis-test' })
    admin = kafka.admin()
    await admin.connect()
  })

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)))
    await admin.disconnect()
    redis.disconnect()
    await server.stop()
  })

  const start = async (
    name: string,
    topic: string,
    options: { delayPerEventMs?: number } = {},
  ): Promise<ConsumerService> => {
    const service = createToyCounter({
      name,
      input: topic,
      brokers,
      redisUrl: server.url,
      logger: silent,
      ...options,
    })
    services.push(service)
    await service.start()
    return service
  }

  const untilState = async (name: string, expected: object, what: string): Promise<void> => {
    const state = () => readToyState(createStateReader({ redis, name }))
    await waitFor(async () => isDeepStrictEqual(await state(), expected), {
      what,
      timeoutMs: 45_000,
    }).catch(async (error: Error) => {
      expect(await state(), error.message).toEqual(expected)
    })
  }

  const get = async (service: ConsumerService, path: string) => {
    const response = await fetch(`http://127.0.0.1:${service.httpPort()}${path}`)
    return { status: response.status, text: await response.text() }
  }

  it('Redis away for a few seconds: the consumer pauses and retries, dead-letters nothing and loses nothing', async () => {
    const topic = uniqueName('kit-outage')
    await createTopic(admin, topic, 3)
    const name = uniqueName('toy-outage')
    const service = await start(name, topic)
    await produceEvents(kafka, topic, events.slice(0, 120))
    await untilState(name, expectedToyState(events.slice(0, 120)), 'the first half')
    const rebuilds = service.status().stats.rebuilds

    await server.stopProcess()
    await produceEvents(kafka, topic, events.slice(120))
    await waitFor(
      async () =>
        /wolkvox_consumer_retries_total\{code="REDIS_UNAVAILABLE"/.test(
          (await get(service, '/metrics')).text,
        ),
      { what: 'the consumer to retry' },
    )
    // Away a little longer, so that several retries back off.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    await server.start()

    await untilState(name, expectedToyState(events), 'everything after the outage')
    expect(service.status().stats).toMatchObject({ applied: 240, deadLettered: 0, rebuilds })
    expect(service.status().phase).toBe('running')
    expect(await readDeadLetters(kafka, name)).toEqual([])
  })

  it('Redis going back (a failover that lost acknowledged writes): the consumer applies the lost events again', async () => {
    const topic = uniqueName('kit-behind')
    await createTopic(admin, topic, 1)
    const name = uniqueName('toy-behind')
    const lines: string[] = []
    const service = createToyCounter({
      name,
      input: topic,
      brokers,
      redisUrl: server.url,
      logger: createLogger({ name, level: 'warn', stream: { write: (l) => lines.push(l) } }),
    })
    services.push(service)
    await service.start()
    const first = events.slice(0, 80)
    await produceEvents(kafka, topic, first)
    await untilState(name, expectedToyState(first), 'the first 80 events')
    // What a replica holds when its master dies: every key of the partition as it is now.
    const keys: string[] = []
    for await (const page of scanKeys(redis, `wcs:{${name}.p0}:*`)) keys.push(...page)
    const snapshot = await Promise.all(
      keys.map(async (key) => ({ key, value: await redis.dumpBuffer(key) })),
    )
    const second = events.slice(80, 160)
    await produceEvents(kafka, topic, second)
    await untilState(name, expectedToyState([...first, ...second]), 'the next 80 events')
    // The counter moves when the script's reply is read, a moment after Redis holds the state.
    await waitFor(() => service.status().stats.applied === 160, { what: '160 applied' })

    // The failover: the promoted replica never received the next 80 events' writes.
    for (const key of keys) await redis.del(key)
    for (const { key, value } of snapshot) await redis.restore(key, 0, value, 'REPLACE')
    const third = events.slice(160)
    await produceEvents(kafka, topic, third)
    // Without the check, the 80 lost events would stay missing for ever.
    await untilState(name, expectedToyState(events), 'every event, the lost ones applied again')
    await waitFor(() => service.status().stats.applied === 160 + 80 + third.length, {
      what: 'the 80 lost events applied a second time',
    }).catch(() => {
      expect(service.status().stats.applied).toBe(160 + 80 + third.length)
    })
    expect(lines.join('')).toContain('"code":"CONSUMER_STATE_BEHIND"')
    expect(service.status().stats.deadLettered).toBe(0)
  })

  it('Redis flushed: the consumer rebuilds the same state by replaying its input, and says so', async () => {
    const topic = uniqueName('kit-flush')
    await createTopic(admin, topic, 3)
    const name = uniqueName('toy-flush')
    await produceEvents(kafka, topic, events)
    // Slow enough per event that the rebuild can be watched.
    const service = await start(name, topic, { delayPerEventMs: 5 })
    await untilState(name, expectedToyState(events), 'the first pass')
    await waitFor(() => service.ready, { what: 'ready' })
    const rebuilds = service.status().stats.rebuilds

    const watchRebuild = async (): Promise<void> => {
      const during = await waitFor(
        async () => {
          const answer = await get(service, '/readyz')
          return answer.status === 503 ? answer : undefined
        },
        { what: '/readyz to report the rebuild', intervalMs: 20 },
      )
      expect(JSON.parse(during.text)).toMatchObject({
        ready: false,
        reason: expect.stringContaining(`rebuilding state: replaying ${topic} from the beginning`),
      })
      expect((await get(service, '/metrics')).text).toMatch(
        /wolkvox_consumer_rebuilding\{[^}]*\} 1/,
      )
      await waitFor(async () => (await get(service, '/readyz')).status === 200, {
        what: 'the rebuild to end',
        timeoutMs: 45_000,
      })
      await untilState(name, expectedToyState(events), 'the rebuilt state')
    }

    await redis.flushall()
    await watchRebuild()
    expect(service.status().stats.rebuilds).toBe(rebuilds + 3)
    expect((await get(service, '/metrics')).text).toContain(
      `wolkvox_consumer_rebuilds_total{reason="epoch_missing",service="${name}"} ${rebuilds + 3}`,
    )

    // The operator's rebuild: the same, on request.
    await runRebuild(name, server.url)
    await watchRebuild()
    expect(service.status().stats).toMatchObject({ rebuilds: rebuilds + 6, deadLettered: 0 })
  })
})

async function runRebuild(name: string, redisUrl: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', 'packages/service-kit/src/cli.ts', 'rebuild', name],
    { cwd: root, env: { ...process.env, REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  expect(code, out).toBe(0)
  expect(out).toContain(`Deleted wcs:{${name}}:epoch`)
}
