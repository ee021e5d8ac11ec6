import { AppError } from '@wolkvox-chat-stream/errors'

// Replies that mean "not now" rather than "never": a failover, a load, a full memory, a busy script.
// ioredis refuses a cluster pipeline across slots before sending it.
const CROSS_SLOT = /should belong to the same slot/

const transientReplies = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|OOM)\b/

/**
 * Maps whatever an ioredis call rejected with to an AppError, keeping it as the `cause`:
 * connection refused or closed, timeouts, a full offline queue, retries exhausted, and transient
 * replies (LOADING, READONLY, OOM, …) become `REDIS_UNAVAILABLE` (retriable); any other reply
 * error (WRONGTYPE, a script error, NOAUTH, WRONGPASS) becomes `REDIS_COMMAND_FAILED` (not
 * retriable), so a bug does not turn into an endless retry loop. An AppError is returned as is.
 */
export function toRedisError(error: unknown): AppError {
  if (error instanceof AppError) return error
  if (error instanceof Error && CROSS_SLOT.test(error.message)) {
    // A bug (keys of two slots in one pipeline), not an outage: retrying cannot help.
    return new AppError('REDIS_COMMAND_FAILED', 'Keys of two cluster slots in one request', {
      cause: error,
    })
  }
  if (
    error instanceof Error &&
    error.name === 'ReplyError' &&
    !transientReplies.test(error.message)
  ) {
    const reply = error.message.split(' ', 1)[0] ?? ''
    return new AppError('REDIS_COMMAND_FAILED', `Redis rejected a command (${reply})`, {
      cause: error,
    })
  }
  return new AppError('REDIS_UNAVAILABLE', 'Redis did not answer', { cause: error })
}
