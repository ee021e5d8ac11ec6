import { isAppError } from '@wolkvox-chat-stream/errors'
import type { EventProducer } from './producer.js'

/**
 * An {@link EventProducer} that starts a new idempotent session (a new kafkajs producer, so a new
 * producer id) for the first send after a failed one.
 *
 * kafkajs 2.2.4 gives its sequence numbers back when a produce request fails, although the broker
 * may have appended the batch: a request that timed out waiting for the in-sync replicas (two of
 * three nodes down) is in the leader's log and is committed once a replica returns. The next batch
 * to that partition reuses those numbers, and the broker refuses it with
 * OUT_OF_ORDER_SEQUENCE_NUMBER (not retriable; kafkajs never resets the session, so every later
 * send fails the same way) or, when the numbers match that batch, acknowledges it as a duplicate
 * without writing it. A new producer id has no sequence history on any broker. The records of the
 * failed send are sent again by the caller (at-least-once; subscribers de-duplicate).
 *
 * `create` makes an unconnected producer; {@link EventProducer.connect} connects the first one.
 * Sends still in flight on a replaced producer finish before it is disconnected.
 */
export function createSessionProducer(create: () => EventProducer): EventProducer {
  let current = create()
  let inFlight = new Set<Promise<unknown>>()
  let stale = false
  let renewing: Promise<void> | undefined
  const retiring = new Set<Promise<void>>()

  const renew = async (): Promise<void> => {
    const next = create()
    try {
      await next.connect()
    } catch (error) {
      await next.disconnect().catch(() => undefined)
      throw error
    }
    const [old, sends] = [current, inFlight]
    current = next
    inFlight = new Set()
    stale = false
    const retired = Promise.allSettled([...sends])
      .then(() => old.disconnect())
      .catch(() => undefined)
      .finally(() => retiring.delete(retired))
    retiring.add(retired)
  }

  return {
    get producer() {
      return current.producer
    },
    connect: () => current.connect(),
    async send(records) {
      if (stale) {
        renewing ??= renew().finally(() => {
          renewing = undefined
        })
        // A failed renewal (Kafka away) fails this send; the next one tries again.
        await renewing
      }
      const session = current
      const sends = inFlight
      const sending = session.send(records)
      sends.add(sending)
      try {
        return await sending
      } catch (error) {
        // Refused before anything was sent: the session is intact. A send on a producer already
        // replaced says nothing of the new one.
        if (!isAppError(error, 'KAFKA_RECORD_TOO_LARGE') && session === current) stale = true
        throw error
      } finally {
        sends.delete(sending)
      }
    },
    async disconnect() {
      await renewing?.catch(() => undefined)
      await Promise.all([current.disconnect(), ...retiring])
    },
  }
}
