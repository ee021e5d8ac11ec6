/*
 * A per-client request rate (HTTP_RATE_LIMIT): a token bucket per client address that holds two
 * seconds' worth of requests and refills at the rate. Idle clients are forgotten, so the table
 * stays as small as the set of recent clients.
 */

/** Takes one request of a client; answers 0 when it may go, else the seconds to wait (≥ 1). */
export interface RateLimiter {
  take(client: string, nowMs?: number): number
}

/** A limiter of `perSecond` requests a second per client; 0 lets everything through. */
export function createRateLimiter(perSecond: number): RateLimiter {
  if (perSecond <= 0) return { take: () => 0 }
  const capacity = perSecond * 2
  const buckets = new Map<string, { tokens: number; atMs: number }>()
  let sweptAtMs = 0

  return {
    take(client, nowMs = performance.now()) {
      if (nowMs - sweptAtMs > 10_000) {
        sweptAtMs = nowMs
        const fullAfterMs = (capacity / perSecond) * 1000
        for (const [key, bucket] of buckets)
          if (nowMs - bucket.atMs > fullAfterMs) buckets.delete(key)
      }
      const bucket = buckets.get(client) ?? { tokens: capacity, atMs: nowMs }
      bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * perSecond)
      bucket.atMs = nowMs
      buckets.set(client, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))
    },
  }
}
