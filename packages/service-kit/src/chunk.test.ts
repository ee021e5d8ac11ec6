import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { KafkaMessage } from '@wolkvox-chat-stream/kafka'
import { chunkDecoder, countFailures, freshEvents, freshRevisions, type Item } from './chunk.js'

interface Ev {
  id: string
  rev: string
  order: number
}

const message = (offset: number, body: string): KafkaMessage => ({
  offset: String(offset),
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(body),
  timestamp: '0',
  attributes: 0,
  headers: {},
})

const decodeChunk = chunkDecoder<Ev>({
  decode: (bytes) => {
    const text = bytes.toString('utf8')
    if (text === 'busy') throw new AppError('REDIS_UNAVAILABLE', 'away', { retriable: true })
    if (!text.startsWith('{')) throw new Error('not json')
    return JSON.parse(text) as Ev
  },
  eventIdOf: (e) => e.id,
  revisions: { of: (e) => ({ revision: e.rev, order: e.order }), summary: (e) => `s-${e.id}` },
})

const ev = (id: string, rev = 'r1', order = 1): string => JSON.stringify({ id, rev, order })

describe('a chunk', () => {
  it('decodes each message with its origin; an undecodable one keeps its error, a retriable one throws', () => {
    const items = decodeChunk('t', 3, [message(10, ev('a')), message(11, 'garbage')])
    expect(items[0]).toMatchObject({
      index: 0,
      offset: '10',
      eventId: 'a',
      revision: { revision: 'r1', order: 1 },
      info: { topic: 't', partition: 3, offset: '10', key: 'k10' },
    })
    expect(items[1]!.decodeError?.code).toBe('CONSUMER_HANDLER_FAILED')
    expect(() => decodeChunk('t', 3, [message(12, 'busy')])).toThrow('away')
  })

  it('passes over, undecoded, a copy redriven for another service, and decodes one for itself', () => {
    const forToy = chunkDecoder<Ev>({
      decode: (bytes) => JSON.parse(bytes.toString('utf8')) as Ev,
      eventIdOf: (e) => e.id,
      revisions: undefined,
      name: 'toy',
    })
    const redriven = (offset: number, body: string, service: string): KafkaMessage => {
      const m = message(offset, body)
      m.headers = { 'dlq.redrive.for': Buffer.from(service) }
      return m
    }
    const items = forToy('t', 0, [redriven(1, 'poison', 'other'), redriven(2, ev('b'), 'toy')])
    expect(items[0]).toMatchObject({ redrivenFor: 'other', eventId: undefined })
    expect(items[0]!.decodeError).toBeUndefined()
    expect(items[1]).toMatchObject({ eventId: 'b' })
    expect(items[1]!.redrivenFor).toBeUndefined()
  })

  it('keeps events past the stored offset, not applied before, the first of an id in the chunk', () => {
    const items = decodeChunk('t', 0, [
      message(5, ev('old')),
      message(6, ev('known')),
      message(7, ev('new')),
      message(8, ev('new')),
    ])
    const fresh = freshEvents(items, 5, new Set(['known']))
    expect(fresh.map((i) => i.offset)).toEqual(['7'])
    expect(items.map((i) => i.duplicate)).toEqual([true, true, false, true])
  })

  it('with revisions, keeps the newest revision of an id, as a correction of an older stored one', () => {
    const items = decodeChunk('t', 0, [
      message(1, ev('a', 'r2', 2)),
      message(2, ev('a', 'r3', 3)),
      message(3, ev('b', 'r1', 1)),
      message(4, ev('c', 'r1', 1)),
    ])
    const tokens = new Map([
      ['a', '1|r1|s-a'],
      ['b', '1|r1|s-b'],
    ])
    const fresh: Item<Ev>[] = freshRevisions(
      items,
      0,
      new Set(['a', 'b']),
      tokens,
      (e) => `s-${e.id}`,
    )
    expect(fresh.map((i) => i.offset)).toEqual(['2', '4'])
    expect(fresh[0]).toMatchObject({ expect: '1|r1|s-a', token: '3|r3|s-a' })
    expect(fresh[0]!.info.previous).toEqual({ order: 1, revision: 'r1', summary: 's-a' })
    // c was never applied: new, expected absent.
    expect(fresh[1]).toMatchObject({ expect: '', token: '1|r1|s-c' })
  })

  it('counts dead letters in a row across chunks, cut at the one that reaches the limit', () => {
    const items = decodeChunk(
      't',
      0,
      [1, 2, 3, 4].map((o) => message(o, ev(`e${o}`))),
    )
    items[1]!.error = new AppError('CONSUMER_EVENT_REJECTED', 'no')
    items[2]!.error = new AppError('CONSUMER_EVENT_REJECTED', 'no')
    // An applied event ends a run; the last one here ends the chunk's.
    expect(countFailures(items, 0, 10)).toEqual({ cut: 4, run: 0 })
    // A duplicate neither ends nor extends it: 7 before, then two more reach the limit of 9.
    items[0]!.duplicate = true
    expect(countFailures(items, 7, 9)).toEqual({ cut: 3, run: 9 })
    items[3]!.duplicate = true
    expect(countFailures(items, 0, 10)).toEqual({ cut: 4, run: 2 })
  })
})
