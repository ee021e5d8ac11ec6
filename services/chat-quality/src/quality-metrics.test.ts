import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { bucketOf, FIRST_RESPONSE_BUCKETS_MS } from './histogram.js'
import {
  createQualityMetrics,
  MAX_SERVER_LABELS,
  FIRST_RESPONSE_BUCKETS_SECONDS,
  type ObservedRecord,
} from './quality-metrics.js'

const registry = () =>
  createMetricsRegistry({
    defaultLabels: { service: 'chat-quality' },
    collectDefaultMetrics: false,
  })

/**
 * The value of every sample of the text format, by series: its name and labels, the labels sorted
 * by name (`service` is the registry's default label) so that a key does not depend on their order.
 */
async function samples(metrics: ReturnType<typeof registry>): Promise<Map<string, number>> {
  const text = await metrics.metrics()
  const entries = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/u.exec(line)
      if (match === null) throw new Error(`not a sample: ${line}`)
      const labels = [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/gu)]
        .map(([, name, value]) => `${name}="${value}"`)
        .sort()
        .join(',')
      return [`${match[1]}{${labels}}`, Number(match[3])] as const
    })
  return new Map(entries)
}

const record = (
  server: string,
  firstResponseMs: number | null,
  meets: boolean | null,
  gaps: boolean | null = meets,
): ObservedRecord => ({
  server,
  first_response_ms: firstResponseMs,
  meets_first_response: meets,
  meets_response_gaps: gaps,
})

describe('the quality metrics', () => {
  it('counts each conversation once, on its first record, by outcome and operation', async () => {
    const metrics = registry()
    const quality = createQualityMetrics(metrics)
    quality.observe(record('0010', 12_000, true), 'new')
    quality.observe(record('0010', 75_000, false, true), 'new')
    quality.observe(record('0010', null, null), 'new')
    quality.observe(record('0010', 3_000, true), 'new')
    // Later records of a conversation are not counted again, whatever they say.
    quality.observe(record('0010', 90_000, false), 'content')
    quality.observe(record('0010', 90_000, false), 'version')
    quality.observe(record('0010', 90_000, false), 'resend')
    quality.observe(record('0020', 200_000, false), 'new')

    const s = await samples(metrics)
    const fr = (server: string, outcome: string) =>
      s.get(
        `wolkvox_quality_first_response_total{outcome="${outcome}",server="${server}",service="chat-quality"}`,
      )
    const gaps = (server: string, outcome: string) =>
      s.get(
        `wolkvox_quality_response_gaps_total{outcome="${outcome}",server="${server}",service="chat-quality"}`,
      )
    expect([fr('0010', 'met'), fr('0010', 'missed'), fr('0010', 'none')]).toEqual([2, 1, 1])
    expect([gaps('0010', 'met'), gaps('0010', 'missed'), gaps('0010', 'none')]).toEqual([3, 0, 1])
    // An operation's outcomes start at zero with its first conversation.
    expect([fr('0020', 'met'), fr('0020', 'missed'), fr('0020', 'none')]).toEqual([0, 1, 0])

    const bucket = (server: string, le: string) =>
      s.get(
        `wolkvox_quality_first_response_seconds_bucket{le="${le}",server="${server}",service="chat-quality"}`,
      )
    // Three first responses in 0010 (the chat nobody answered has none): 3 s, 12 s, 75 s.
    expect(bucket('0010', '5')).toBe(1)
    expect(bucket('0010', '15')).toBe(2)
    expect(bucket('0010', '60')).toBe(2)
    expect(bucket('0010', '90')).toBe(3)
    expect(bucket('0010', '+Inf')).toBe(3)
    expect(
      s.get('wolkvox_quality_first_response_seconds_count{server="0010",service="chat-quality"}'),
    ).toBe(3)
    expect(
      s.get('wolkvox_quality_first_response_seconds_sum{server="0010",service="chat-quality"}'),
    ).toBe(90)
    expect(bucket('0020', '180')).toBe(0)
    expect(bucket('0020', '300')).toBe(1)
  })

  it('has the bounds of the per-agent histogram, in seconds', () => {
    expect(FIRST_RESPONSE_BUCKETS_SECONDS.map((s) => s * 1000)).toEqual(FIRST_RESPONSE_BUCKETS_MS)
  })

  it('puts every first response in the bucket the per-agent figures put it in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 4_000_000 }),
            fc.constantFrom(...FIRST_RESPONSE_BUCKETS_MS.flatMap((b) => [b - 1, b, b + 1])),
          ),
          { maxLength: 40 },
        ),
        async (values) => {
          const metrics = registry()
          const quality = createQualityMetrics(metrics)
          for (const ms of values) quality.observe(record('0010', ms, ms <= 60_000), 'new')
          const s = await samples(metrics)
          FIRST_RESPONSE_BUCKETS_MS.forEach((bound, i) => {
            const expected = values.filter((ms) => bucketOf(ms) <= i).length
            const shown =
              s.get(
                `wolkvox_quality_first_response_seconds_bucket{le="${bound / 1000}",server="0010",service="chat-quality"}`,
              ) ?? 0
            expect(shown, `le ${bound / 1000}`).toBe(expected)
          })
        },
      ),
      { numRuns: 50 },
    )
  })

  it('refuses to be declared twice on one registry', () => {
    const metrics = registry()
    createQualityMetrics(metrics)
    expect(() => createQualityMetrics(metrics)).toThrow(/already registered/)
  })

  it('labels at most MAX_SERVER_LABELS operations on their own, the rest as other', async () => {
    const metrics = registry()
    const quality = createQualityMetrics(metrics)
    for (let i = 0; i < MAX_SERVER_LABELS + 5; i++)
      quality.observe(record(String(1000 + i), 30_000, true), 'new')
    // An operation seen before the cap keeps its own label after it.
    quality.observe(record('1000', 30_000, true), 'new')
    const s = await samples(metrics)
    const servers = new Set(
      [...s.keys()]
        .filter((k) => k.startsWith('wolkvox_quality_first_response_total{'))
        .map((k) => /server="([^"]*)"/u.exec(k)![1]),
    )
    expect(servers.size).toBe(MAX_SERVER_LABELS + 1)
    expect(servers.has('other')).toBe(true)
    expect(
      s.get(
        'wolkvox_quality_first_response_total{outcome="met",server="other",service="chat-quality"}',
      ),
    ).toBe(5)
    expect(
      s.get(
        'wolkvox_quality_first_response_total{outcome="met",server="1000",service="chat-quality"}',
      ),
    ).toBe(2)
  })
})
