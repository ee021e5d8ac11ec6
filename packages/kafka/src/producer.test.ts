import { gunzipSync, gzipSync } from 'node:zlib'
import kafkajs, { type Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  GZIP_LEVEL,
  chunkRecords,
  createEventProducer,
  recordBytes,
  type OutgoingRecord,
} from './producer.js'

const record = (bytes: number, key = 'k'): OutgoingRecord => ({
  topic: 't',
  key,
  value: Buffer.alloc(bytes - Buffer.byteLength(key)),
})

describe('producer batching', () => {
  it('counts key, value and header bytes', () => {
    expect(
      recordBytes({ topic: 't', key: 'ñ', value: 'ab', headers: { h: Buffer.alloc(3) } }),
    ).toBe(2 + 2 + 1 + 3)
    expect(recordBytes({ topic: 't', key: null, value: Buffer.alloc(5) })).toBe(5)
  })

  it('splits in order by bytes and by count, a large record alone', () => {
    const records = [
      record(40),
      record(40),
      record(40),
      record(500),
      record(10),
      record(10),
      record(10),
    ]
    const chunks = chunkRecords(records, 100, 2)
    expect(chunks.map((c) => c.map(recordBytes))).toEqual([[40, 40], [40], [500], [10, 10], [10]])
    expect(chunks.flat()).toEqual(records)
    expect(chunkRecords([], 100, 2)).toEqual([])
  })
})

describe('compression', () => {
  it('makes kafkajs write gzip at the fast level once an event producer exists', async () => {
    const kafka = { producer: () => ({}) } as unknown as Kafka
    createEventProducer(kafka)
    const codec = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP]() as {
      compress(encoder: { buffer: Buffer }): Promise<Buffer>
      decompress(buffer: Buffer): Promise<Buffer>
    }
    const text = Buffer.from('Hola, ¿en qué le puedo ayudar? '.repeat(2_000))
    const compressed = await codec.compress({ buffer: text })
    expect(gunzipSync(compressed).equals(text)).toBe(true)
    expect(compressed.equals(gzipSync(text, { level: GZIP_LEVEL }))).toBe(true)
    expect((await codec.decompress(compressed)).equals(text)).toBe(true)
  })
})
