/*
 * First-response percentiles from fixed histogram buckets: counts per bucket merge across
 * partitions by addition and stay exact under replay, where exact percentiles would need every
 * value. A percentile is answered as the upper bound of the bucket that holds it (README:
 * Per-agent figures).
 */

/** Upper bounds (inclusive, ms) of the first-response buckets; a last bucket holds the rest. */
export const FIRST_RESPONSE_BUCKETS_MS: readonly number[] = [
  5_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000, 600_000,
  1_800_000, 3_600_000,
]

/** The bucket of `ms`: the first whose bound is at or above it; the overflow bucket after the last. */
export function bucketOf(ms: number): number {
  const i = FIRST_RESPONSE_BUCKETS_MS.findIndex((bound) => ms <= bound)
  return i === -1 ? FIRST_RESPONSE_BUCKETS_MS.length : i
}

/**
 * The upper bound of the bucket holding the `q` quantile (0 < q ≤ 1) of the counts (index = bucket):
 * the smallest bound with at least ⌈q·total⌉ values at or below it. `null` with no values, or when
 * it falls in the overflow bucket (over the last bound).
 */
export function quantileBound(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0)
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0
    if (seen >= rank) return FIRST_RESPONSE_BUCKETS_MS[i] ?? null
  }
  return null
}
