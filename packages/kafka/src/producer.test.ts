import { describe, expect, it } from 'vitest'
import { chunkRecords, recordBytes, type OutgoingRecord } from './producer.js'

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
