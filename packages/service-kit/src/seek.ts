import { AppError } from '@wolkvox-chat-stream/errors'
import type { Consumer } from '@wolkvox-chat-stream/kafka'

/**
 * Moves `consumer`'s position on `topic`/`partition` to `offset`. Between a crash of kafkajs's
 * consumer (a broker down, its retries used up) and its restart, seconds later, there is no group
 * to seek in and kafkajs throws a non-retriable error: that one becomes a retriable
 * `KAFKA_UNAVAILABLE`, so the reconcile that asked waits and seeks once the consumer is back. The
 * chaos run found every consumer of the pipeline stopped with `CONSUMER_HANDLER_FAILED` when Redis
 * lost its data in that gap (the epoch watcher's reconcile seeks). Any other error is thrown as is.
 */
export function seekOrWait(
  consumer: Pick<Consumer, 'seek'>,
  topic: string,
  partition: number,
  offset: number,
): void {
  try {
    consumer.seek({ topic, partition, offset: String(offset) })
  } catch (error) {
    if (error instanceof Error && error.message.includes('Consumer group was not initialized'))
      throw new AppError(
        'KAFKA_UNAVAILABLE',
        'The Kafka consumer is restarting: the seek waits for it',
        { retriable: true, cause: error, details: { topic, partition } },
      )
    throw error
  }
}
