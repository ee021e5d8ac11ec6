/*
 * A lock holder in its own process, for the kill and pause tests.
 * argv: <redisUrl> <server> <token> <ttlMs> <mode>
 *   hold   acquire, print {"event":"acquired"}, hold (renewing) until killed
 *   pause  acquire, print {"event":"acquired"}, work until the signal aborts, then try a fenced
 *          write of the watermark and print {"event":"after-abort", ...}
 */
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'

const [redisUrl, server, token, ttl, mode] = process.argv.slice(2)
const redis = createRedis(redisUrl!, { role: 'lock', name: 'holder-child' })
await waitUntilReady(redis)
const lock = createTokenLock({ redis, server: server!, token: token!, ttlMs: Number(ttl) })
const print = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`)

const result = await lock.withLock({ waitMs: 30_000 }, async (signal, fence, lease) => {
  print({ event: 'acquired', fence })
  if (mode === 'hold') await new Promise(() => undefined)
  while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 20))
  const write = await lease.fencedSet('watermark', `child-${fence}`)
  const reason = (signal.reason as { details?: { reason?: string } }).details?.reason
  print({ event: 'after-abort', aborted: signal.aborted, reason, write })
})
print({ event: 'done', status: result.status })
await redis.quit()
