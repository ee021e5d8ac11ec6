import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { deadLetterRecord, originKey, readDeadLetter } from './dead-letter.js'

describe('dead-letter records', () => {
  it('keep the key, bytes and headers, and say where they came from and why', () => {
    const record = deadLetterRecord(
      'wolkvox.toy.dlq',
      {
        topic: 'wolkvox.chat.message.v1',
        partition: 4,
        message: {
          key: Buffer.from('conn-1'),
          value: Buffer.from([1, 2, 3]),
          offset: '42',
          headers: { trace: Buffer.from('abc'), 'dlq.topic': 'old' },
        },
      },
      new AppError('EVENT_NOT_SINGLE_OBJECT', 'x'.repeat(2_000)),
    )
    expect(record.topic).toBe('wolkvox.toy.dlq')
    expect(record.key).toEqual(Buffer.from('conn-1'))
    expect(record.value).toEqual(Buffer.from([1, 2, 3]))
    expect(record.headers).toMatchObject({
      trace: Buffer.from('abc'),
      'dlq.topic': 'wolkvox.chat.message.v1',
      'dlq.partition': '4',
      'dlq.offset': '42',
      'dlq.error.code': 'EVENT_NOT_SINGLE_OBJECT',
    })
    expect(String(record.headers?.['dlq.error.message'])).toHaveLength(1_000)

    const headers = Object.fromEntries(
      Object.entries(record.headers ?? {}).map(([k, v]) => [k, Buffer.from(v)]),
    )
    const read = readDeadLetter({
      key: record.key as Buffer,
      value: record.value as Buffer,
      offset: '0',
      headers,
      timestamp: '0',
      attributes: 0,
    })
    expect(read).toMatchObject({
      topic: 'wolkvox.chat.message.v1',
      partition: 4,
      originalOffset: '42',
      errorCode: 'EVENT_NOT_SINGLE_OBJECT',
      originalHeaders: { trace: Buffer.from('abc') },
    })
    expect(originKey(read)).toBe('wolkvox.chat.message.v1|4|42')
    expect(originKey({ ...read, topic: undefined })).toBeUndefined()
  })
})
