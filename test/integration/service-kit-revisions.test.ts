/*
 * Corrections in the service kit (issue 27), on the private broker and Redis: an event applied once
 * comes again with the same event_id and another revision. A newer revision moves the state from
 * the old one to the new (the handler gets `previous`); the same revision again, or an older one, is
 * a duplicate; and every order of the revisions (across chunks, inside one chunk, reversed, a
 * rebuild from the topic) ends as the newest revision alone.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createKafkaClient, type Admin } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import {
  createConsumerService,
  type ConsumerService,
  type StateReader,
} from '@wolkvox-chat-stream/service-kit'
import { produceRaw } from '../support/chat-events.js'
import { toyEnv } from '../support/toy-counter.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor, waitForEqual } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

/** A toy event: `value` is outside the identity and may change between revisions. */
interface Toy {
  event_id: string
  conn: string
  rev: string
  order: number
  value: string
}

const toy = (event_id: string, rev: string, order: number, value: string, conn = 'c1'): Toy => ({
  event_id,
  conn,
  rev,
  order,
  value,
})

/** Counts events per value; a correction moves its event from the old value to the new one. */
function startToy(name: string, input: string): Promise<ConsumerService> {
  const service = createConsumerService<Toy>({
    name,
    input,
    env: toyEnv({ brokers, redisUrl }),
    logger: createLogger({ name, level: 'silent' }),
    decode: (bytes) => JSON.parse(bytes.toString('utf8')) as Toy,
    revisions: {
      of: (event) => ({ revision: event.rev, order: event.order }),
      summary: (event) => event.value,
    },
    handle(event, ctx) {
      if (ctx.previous !== undefined) ctx.state.hincrby('values', ctx.previous.summary, -1)
      ctx.state.hincrby('values', event.value, 1)
    },
  })
  return service.start().then(() => service)
}

const values = async (reader: StateReader): Promise<Record<string, number>> =>
  Object.fromEntries(Object.entries(await reader.sumHash('values')).filter(([, n]) => n !== 0))

describe('the service kit with revisions', () => {
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'kit-revisions-test' })
  let admin: Admin
  const running: ConsumerService[] = []

  beforeAll(async () => {
    admin = kafka.admin()
    await admin.connect()
  })

  afterAll(async () => {
    for (const s of running) await s.stop().catch(() => undefined)
    await admin.disconnect()
  })

  const produce = (topic: string, events: Toy[]) =>
    produceRaw(
      kafka,
      events.map((e) => ({ topic, key: e.conn, value: Buffer.from(JSON.stringify(e)) })),
    )
  const start = async (name: string, topic: string) => {
    const service = await startToy(name, topic)
    running.push(service)
    return service
  }
  const settle = (service: ConsumerService, want: Record<string, number>, what: string) =>
    waitForEqual(() => values(service.state), want, { what, timeoutMs: 30_000 })

  it('moves an event to its newer revision once; the same or an older revision changes nothing', async () => {
    const topic = uniqueName('kit-rev')
    await createTopic(admin, topic, 2)
    const service = await start(uniqueName('rev'), topic)
    await produce(topic, [toy('a', 'r1', 1, 'x', 'c1'), toy('b', 'r1', 1, 'x', 'c2')])
    await settle(service, { x: 2 }, 'the first revisions')

    // The newer revision of a, then the same again at a new offset, then the old one again.
    await produce(topic, [toy('a', 'r2', 2, 'y', 'c1')])
    await settle(service, { x: 1, y: 1 }, 'the correction of a')
    await produce(topic, [toy('a', 'r2', 2, 'y', 'c1'), toy('a', 'r1', 1, 'x', 'c1')])
    await waitFor(() => service.status().stats.duplicates >= 2, { what: 'the two duplicates' })
    expect(await values(service.state)).toEqual({ x: 1, y: 1 })
    expect(service.status().stats).toMatchObject({ applied: 2, corrected: 1, duplicates: 2 })
    const metrics = await (await fetch(`http://127.0.0.1:${service.httpPort()!}/metrics`)).text()
    expect(metrics).toMatch(/wolkvox_consumer_messages_total\{outcome="corrected"[^}]*\} 1\n/u)

    // A third revision, then a rebuild (a new service replays the topic from its start): the
    // newest revisions alone.
    await produce(topic, [toy('a', 'r3', 3, 'z', 'c1'), toy('b', 'r2', 2, 'y', 'c2')])
    await settle(service, { y: 1, z: 1 }, 'the third revision of a and the second of b')
    const rebuilt = await start(uniqueName('rev-rebuilt'), topic)
    await settle(rebuilt, { y: 1, z: 1 }, 'the replay to end as the newest revisions alone')
  })

  it('ends as the newest revision alone when revisions arrive reversed or in one chunk', async () => {
    const topic = uniqueName('kit-rev-order')
    await createTopic(admin, topic, 1)
    // Reversed: the newest first; two revisions of c in one chunk (one produce, one fetch).
    await produce(topic, [
      toy('a', 'r2', 2, 'y'),
      toy('a', 'r1', 1, 'x'),
      toy('c', 'r1', 1, 'x'),
      toy('c', 'r2', 2, 'y'),
      toy('c', 'r3', 3, 'z'),
      toy('d', 'r1', 5, 'x'),
    ])
    const service = await start(uniqueName('rev-order'), topic)
    await settle(service, { x: 1, y: 1, z: 1 }, 'the newest revision of each event')
    expect(service.status().stats).toMatchObject({ applied: 3, corrected: 0, duplicates: 3 })
  })
})
