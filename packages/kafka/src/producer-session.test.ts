import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Producer } from 'kafkajs'
import type { EventProducer, OutgoingRecord } from './producer.js'
import { createSessionProducer } from './producer-session.js'

/** A fake producer: its sends follow `outcome`, and it records what happened to it. */
interface Fake {
  id: number
  producer: EventProducer
  sent: OutgoingRecord[][]
  connected: boolean
  disconnected: boolean
}

function fakes(outcome: (fake: Fake, records: readonly OutgoingRecord[]) => Promise<void>) {
  const made: Fake[] = []
  const create = (): EventProducer => {
    const fake: Fake = {
      id: made.length + 1,
      sent: [],
      connected: false,
      disconnected: false,
      producer: undefined as unknown as EventProducer,
    }
    fake.producer = {
      producer: { id: fake.id } as unknown as Producer,
      connect: () => {
        fake.connected = true
        return Promise.resolve()
      },
      send: async (records) => {
        await outcome(fake, records)
        fake.sent.push([...records])
        return []
      },
      disconnect: () => {
        fake.disconnected = true
        return Promise.resolve()
      },
    }
    made.push(fake)
    return fake.producer
  }
  return { made, create }
}

const record = (key: string): OutgoingRecord => ({ topic: 't', key, value: key })
const unavailable = () => new AppError('KAFKA_UNAVAILABLE', 'timed out', { retriable: true })

describe('createSessionProducer', () => {
  it('keeps one session while sends succeed', async () => {
    const { made, create } = fakes(() => Promise.resolve())
    const producer = createSessionProducer(create)
    await producer.connect()
    await producer.send([record('a')])
    await producer.send([record('b')])
    expect(made).toHaveLength(1)
    expect(made[0]!.sent).toEqual([[record('a')], [record('b')]])
  })

  it('sends after a failed send through a new producer (a new producer id), and retires the old one', async () => {
    let fail = true
    const { made, create } = fakes(() => {
      if (fail) {
        fail = false
        return Promise.reject(unavailable())
      }
      return Promise.resolve()
    })
    const producer = createSessionProducer(create)
    await producer.connect()
    await expect(producer.send([record('a')])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' })
    await producer.send([record('a')])
    expect(made).toHaveLength(2)
    expect(made[1]!.connected).toBe(true)
    expect(made[1]!.sent).toEqual([[record('a')]])
    expect((producer.producer as unknown as { id: number }).id).toBe(2)
    await producer.disconnect()
    expect(made.map((f) => f.disconnected)).toEqual([true, true])
  })

  it('keeps the session after a record refused before anything was sent', async () => {
    const { made, create } = fakes((_fake, records) =>
      records.some((r) => r.key === 'huge')
        ? Promise.reject(new AppError('KAFKA_RECORD_TOO_LARGE', 'too large'))
        : Promise.resolve(),
    )
    const producer = createSessionProducer(create)
    await producer.connect()
    await expect(producer.send([record('huge')])).rejects.toThrow('too large')
    await producer.send([record('b')])
    expect(made).toHaveLength(1)
  })

  it('lets sends in flight on the replaced producer finish before disconnecting it', async () => {
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    const { made, create } = fakes((fake, records) => {
      if (fake.id === 1 && records[0]!.key === 'slow') return held
      if (fake.id === 1 && records[0]!.key === 'fails') return Promise.reject(unavailable())
      return Promise.resolve()
    })
    const producer = createSessionProducer(create)
    await producer.connect()
    const slow = producer.send([record('slow')])
    await expect(producer.send([record('fails')])).rejects.toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
    })
    await producer.send([record('next')])
    expect(made[1]!.sent).toEqual([[record('next')]])
    expect(made[0]!.disconnected).toBe(false)
    release()
    await slow
    await producer.disconnect()
    expect(made[0]!.sent).toEqual([[record('slow')]])
    expect(made[0]!.disconnected).toBe(true)
  })

  it('fails the send when the new session cannot connect, and tries again on the next', async () => {
    let connects = 0
    const { made, create } = fakes((fake) =>
      fake.id === 1 ? Promise.reject(unavailable()) : Promise.resolve(),
    )
    const producer = createSessionProducer(() => {
      const made = create()
      const connect = () => made.connect()
      return {
        ...made,
        producer: made.producer,
        connect: () => (++connects === 2 ? Promise.reject(unavailable()) : connect()),
      }
    })
    await producer.connect()
    await expect(producer.send([record('a')])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' })
    await expect(producer.send([record('a')])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' })
    await producer.send([record('a')])
    expect(made).toHaveLength(3)
    expect(made[1]!.disconnected).toBe(true)
    expect(made[2]!.sent).toEqual([[record('a')]])
  })
})
