import { describe, expect, it } from 'vitest'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { createConsumer, createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { seekOrWait } from './seek.js'

// A real kafkajs consumer that is not running (as between a crash and its restart): kafkajs
// checks that before any connection, so no broker is needed. This pins the error kafkajs throws.
const consumer = createConsumer(
  createKafkaClient({ brokers: ['127.0.0.1:9'], clientId: 'seek-test' }),
  { groupId: 'seek-test' },
)

describe('seekOrWait', () => {
  it('turns the seek of a consumer without a group into a retriable KAFKA_UNAVAILABLE', () => {
    let thrown: unknown
    try {
      seekOrWait(consumer, 'wolkvox.chat.message.v1', 3, 120)
    } catch (error) {
      thrown = error
    }
    expect(isAppError(thrown)).toBe(true)
    const error = thrown as { code: string; retriable: boolean; details: unknown; cause: Error }
    expect(error.code).toBe('KAFKA_UNAVAILABLE')
    expect(error.retriable).toBe(true)
    expect(error.details).toEqual({ topic: 'wolkvox.chat.message.v1', partition: 3 })
    // kafkajs's own error is kept as the cause.
    expect(error.cause.name).toBe('KafkaJSNonRetriableError')
  })

  it('throws any other error as kafkajs did', () => {
    expect(() => seekOrWait(consumer, 'wolkvox.chat.message.v1', 0, -5)).toThrow(
      /Offset must not be a negative number/,
    )
  })
})
