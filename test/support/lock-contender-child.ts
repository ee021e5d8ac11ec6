/*
 * One contender for the token: CALLS report calls to the simulator, each through the token lock
 * (mode `lock`) or straight (mode `raw`, the control that proves the test can see an overlap).
 * argv: <redisUrl> <simulatorUrl> <server> <token> <calls> <mode>
 */
import { Secret } from '@wolkvox-chat-stream/config'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import { createWolkvoxClient } from '@wolkvox-chat-stream/wolkvox-client'

const [redisUrl, baseUrl, server, token, calls, mode] = process.argv.slice(2)
const client = createWolkvoxClient({
  server: server!,
  token: new Secret(token!),
  baseUrl: baseUrl!,
  retry: { maxAttempts: 1 },
})
const to = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000)
const from = new Date(to.getTime() - 600_000)
const redis = createRedis(redisUrl!, { role: 'lock', name: 'contender' })
await waitUntilReady(redis)
const lock = createTokenLock({ redis, server: server!, token: token!, ttlMs: 5_000 })
let done = 0
for (let i = 0; i < Number(calls); i++) {
  if (mode === 'raw') {
    // Without the lock the upstream refuses some calls (simultaneous requests): count, go on.
    await client.fetchReport({ report: 'chat_2', from, to }).then(
      () => done++,
      () => undefined,
    )
    continue
  }
  const result = await lock.withLock({ waitMs: 120_000 }, (signal, _fence, lease) =>
    client.fetchReport({ report: 'chat_2', from, to, signal, deadline: lease.deadline() }),
  )
  if (result.status === 'done') done++
}
process.stdout.write(`${JSON.stringify({ event: 'finished', done })}\n`)
await redis.quit()
