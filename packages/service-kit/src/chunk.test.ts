import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { KafkaMessage } from '@wolkvox-chat-stream/kafka'
import {
  asAppError,
  chunkDecoder,
  countFailures,
  defaultEventId,
  freshEvents,
  freshRevisions,
  type Item,
} from './chunk.js'

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

describe('a chunk, edge by edge', () => {
  it('reads an event_id only when it is a non-empty string', () => {
    expect(defaultEventId({ event_id: 'e-1' })).toBe('e-1')
    expect(defaultEventId({ event_id: '' })).toBeUndefined()
    expect(defaultEventId({ event_id: 7 })).toBeUndefined()
    expect(defaultEventId({})).toBeUndefined()
    expect(defaultEventId(null)).toBeUndefined()
  })

  it('names what threw: a plain error becomes CONSUMER_HANDLER_FAILED, an AppError stays itself', () => {
    const plain = new Error('boom')
    const wrapped = asAppError(plain, 'handle')
    expect(wrapped).toMatchObject({
      code: 'CONSUMER_HANDLER_FAILED',
      message: 'handle threw: boom',
      cause: plain,
    })
    expect(asAppError('just text', 'decode').message).toBe('decode threw: just text')
    const own = new AppError('CONSUMER_EVENT_REJECTED', 'no')
    expect(asAppError(own, 'handle')).toBe(own)
  })

  it('decodes a message without key or value, and without revisions keeps none', () => {
    const seen: Buffer[] = []
    const plain = chunkDecoder<{ id: string }>({
      decode: (bytes) => {
        seen.push(bytes)
        return { id: 'x' }
      },
      eventIdOf: (e) => e.id,
      revisions: undefined,
    })
    const bare: KafkaMessage = { ...message(3, ''), key: null, value: null, timestamp: '1700' }
    const [item] = plain('t', 1, [bare])
    expect(seen).toEqual([Buffer.alloc(0)])
    expect(item).toMatchObject({ eventId: 'x', event: { id: 'x' } })
    expect(item!.revision).toBeUndefined()
    expect(item!.info).toEqual({
      topic: 't',
      partition: 1,
      offset: '3',
      key: null,
      timestamp: '1700',
      event: { id: 'x' },
    })
    // A message without the redrive header is decoded by a named service as any other.
    const named = chunkDecoder<{ id: string }>({
      decode: () => ({ id: 'y' }),
      eventIdOf: (e) => e.id,
      revisions: undefined,
      name: 'toy',
    })
    expect(named('t', 0, [message(4, 'z')])[0]).toMatchObject({ eventId: 'y' })
    expect(named('t', 0, [message(4, 'z')])[0]!.redrivenFor).toBeUndefined()
  })

  it('without an event_id, keeps every event past the stored offset', () => {
    const items = chunkDecoder<{ id?: string }>({
      decode: () => ({}),
      eventIdOf: () => undefined,
      revisions: undefined,
    })('t', 0, [message(1, ''), message(2, ''), message(3, '')])
    expect(freshEvents(items, 1, new Set()).map((i) => i.offset)).toEqual(['2', '3'])
    expect(items.map((i) => i.duplicate)).toEqual([true, false, false])
  })

  it('with revisions, of two revisions with one order keeps the later offset, and forgets earlier marks', () => {
    const items = decodeChunk('t', 0, [message(7, ev('a', 'r5', 5)), message(8, ev('a', 'r6', 5))])
    // Marks left by an earlier attempt at this chunk are replaced.
    items[0]!.expect = 'stale'
    items[0]!.token = 'stale'
    items[0]!.info.previous = { order: 0, revision: 'x', summary: 'x' }
    const fresh = freshRevisions(items, 0, new Set(), new Map(), (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['8'])
    expect(fresh[0]).toMatchObject({ expect: '', token: '5|r6|s-a' })
    expect(items[0]).toMatchObject({ duplicate: true, expect: undefined, token: undefined })
    expect(items[0]!.info.previous).toBeUndefined()
  })

  it('with revisions, passes over what is stored: the same revision, an older one, an unreadable token, the stored offset', () => {
    const items = decodeChunk('t', 0, [
      message(10, ev('same', 'r1', 4)),
      message(11, ev('older', 'r0', 2)),
      message(12, ev('equal-order', 'r9', 3)),
      message(13, ev('unreadable', 'r2', 9)),
      message(14, ev('newer', 'r2', 4)),
    ])
    const tokens = new Map([
      ['same', '3|r1|s'],
      ['older', '3|r1|s'],
      ['equal-order', '3|r1|s'],
      ['unreadable', 'no-bars'],
      // A summary may itself hold bars: only the first two separate.
      ['newer', '3|r1|a|b'],
    ])
    const known = new Set(tokens.keys())
    const fresh = freshRevisions(items, 9, known, tokens, (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['14'])
    expect(fresh[0]!.info.previous).toEqual({ order: 3, revision: 'r1', summary: 'a|b' })
    expect(fresh[0]).toMatchObject({ expect: '3|r1|a|b', token: '4|r2|s-newer' })
    expect(items.map((i) => i.duplicate)).toEqual([true, true, true, true, false])
    // At or below the stored offset, nothing counts, not even a newer revision.
    const again = decodeChunk('t', 0, [message(14, ev('newer', 'r2', 4))])
    expect(freshRevisions(again, 14, known, tokens, (e) => `s-${e.id}`)).toEqual([])
    expect(again[0]!.duplicate).toBe(true)
  })

  it('with revisions, keeps an undecodable message for the dead-letter topic, without a token', () => {
    const items = decodeChunk('t', 0, [message(3, 'garbage'), message(4, ev('a'))])
    const fresh = freshRevisions(items, 0, new Set(), new Map(), (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['3', '4'])
    expect(fresh[0]).toMatchObject({ duplicate: false, token: undefined, expect: undefined })
  })

  it('cuts at the first dead letter when the limit is one, and at none below it', () => {
    const items = decodeChunk(
      't',
      0,
      [1, 2, 3].map((o) => message(o, ev(`e${o}`))),
    )
    items[1]!.error = new AppError('CONSUMER_EVENT_REJECTED', 'no')
    expect(countFailures(items, 0, 1)).toEqual({ cut: 2, run: 1 })
    expect(countFailures(items, 0, 2)).toEqual({ cut: 3, run: 0 })
    expect(countFailures([], 4, 5)).toEqual({ cut: 0, run: 4 })
  })
})

describe('a chunk, against what the partition holds', () => {
  it('keeps the revision with the larger order even when an older one comes later in the chunk', () => {
    // Wolkvox's revision of polled_at 9 was read again after one of polled_at 3 was published.
    const items = decodeChunk('t', 0, [message(1, ev('a', 'r9', 9)), message(2, ev('a', 'r3', 3))])
    const fresh = freshRevisions(items, 0, new Set(), new Map(), (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['1'])
    expect(fresh[0]).toMatchObject({ expect: '', token: '9|r9|s-a' })
    expect(items[1]!.duplicate).toBe(true)
  })

  it('lets no revision at or below the stored offset hide a newer offset of the same id', () => {
    // A chunk read again from before the stored offset (a rebalance): offset 5 is applied, 6 not.
    const items = decodeChunk('t', 0, [message(5, ev('a', 'r9', 9)), message(6, ev('a', 'r3', 3))])
    const fresh = freshRevisions(items, 5, new Set(), new Map(), (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['6'])
    expect(fresh[0]).toMatchObject({ expect: '', token: '3|r3|s-a' })
  })

  it('passes over an undecodable message at the stored offset, which was dead-lettered already', () => {
    const items = decodeChunk('t', 0, [message(3, 'garbage'), message(4, 'garbage')])
    expect(
      freshRevisions(items, 3, new Set(), new Map(), (e) => e.id).map((i) => i.offset),
    ).toEqual(['4'])
    expect(items.map((i) => i.duplicate)).toEqual([true, false])
  })

  it('reads a stored token with its first two bars only, and a token without both as none', () => {
    const items = decodeChunk('t', 0, [
      message(1, ev('no-token', 'r2', 9)),
      message(2, ev('one-bar', 'r2', 9)),
      message(3, ev('empty-order', 'r2', 9)),
    ])
    const tokens = new Map([
      // Applied by a version that kept no revisions: no token, nothing to correct.
      ['one-bar', '3|r1'],
      ['empty-order', '|r0|s'],
    ])
    const known = new Set(['no-token', 'one-bar', 'empty-order'])
    const fresh = freshRevisions(items, 0, known, tokens, (e) => `s-${e.id}`)
    expect(fresh.map((i) => i.offset)).toEqual(['3'])
    expect(fresh[0]!.info.previous).toEqual({ order: 0, revision: 'r0', summary: 's' })
    expect(items.map((i) => i.duplicate)).toEqual([true, true, false])
  })

  it('decodes a redriven copy in a service that has no name, and says which step threw', () => {
    const unnamed = chunkDecoder<Ev>({
      decode: (bytes) => {
        const text = bytes.toString('utf8')
        if (!text.startsWith('{')) throw new Error('not json')
        return JSON.parse(text) as Ev
      },
      eventIdOf: (e) => e.id,
      revisions: undefined,
    })
    const copy = message(1, ev('a'))
    copy.headers = { 'dlq.redrive.for': Buffer.from('other') }
    const [item, bad] = unnamed('t', 0, [copy, message(2, 'garbage')])
    expect(item).toMatchObject({ eventId: 'a', event: { id: 'a', rev: 'r1', order: 1 } })
    expect(item!.redrivenFor).toBeUndefined()
    expect(item!.decodeError).toBeUndefined()
    expect(item!.revision).toBeUndefined()
    expect(bad!.decodeError).toMatchObject({
      code: 'CONSUMER_HANDLER_FAILED',
      message: 'decode threw: not json',
    })
  })
})
