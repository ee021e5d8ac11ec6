import { describe, expect, it } from 'vitest'
import type { FleetSummary, OperationStatus } from './status.js'
import { formatAge, localTime, renderStatus } from './status-table.js'

const nowMs = Date.parse('2026-12-06T13:20:00Z')

const summary: FleetSummary = {
  operations: 2,
  states: {
    checkpoint_missing: 0,
    paused: 0,
    failing: 1,
    lagging: 0,
    never_polled: 0,
    ok: 1,
  },
  lagThresholdSeconds: 330,
  maxLag: { server: '0011', seconds: 250 },
  quota: { used: 1234, budget: 100_000 },
  lastPollAt: '2026-12-06T13:19:48Z',
  lastError: {
    server: '0011',
    at: '2026-12-06T13:17:00Z',
    purpose: 'live',
    code: 'KAFKA_UNAVAILABLE',
  },
}

function operation(
  over: Partial<OperationStatus> & Pick<OperationStatus, 'server'>,
): OperationStatus {
  return {
    state: 'ok',
    timeZone: 'America/Bogota',
    watermark: '2026-12-06T13:15:00.000Z',
    lagSeconds: 300,
    lastSuccess: {
      live: { at: '2026-12-06T13:19:48Z', window: null, published: 3 },
      sweep: { at: '2026-12-06T13:10:00Z', window: null, published: 0 },
    },
    lastError: null,
    paused: null,
    lock: { held: false, expiresInMs: null },
    quota: {
      day: '2026-12-06',
      used: 200,
      budget: 50_000,
      reserve: 5000,
      liveLeft: 49_800,
      backfillLeft: 44_800,
    },
    coverage: { intervals: 1, from: null, to: null, gaps: [], gapCount: 0 },
    stuckWindows: [],
    checkpoint: { state: 'bound', cluster: null, partition: null, offset: null, missing: null },
    backfills: [],
    schedule: null,
    ...over,
  }
}

describe('the status table', () => {
  it('prints the summary, one aligned row per operation, and what needs a look', () => {
    const text = renderStatus(
      {
        generatedAt: new Date(nowMs).toISOString(),
        summary,
        operations: [
          operation({ server: '0010' }),
          operation({
            server: '0011',
            state: 'failing',
            watermark: '2026-12-06T13:15:50.000Z',
            lagSeconds: 250,
            lastSuccess: {},
            lastError: {
              at: '2026-12-06T13:17:00Z',
              purpose: 'live',
              code: 'KAFKA_UNAVAILABLE',
              message: 'Kafka is away\u001b[2J',
            },
            coverage: { intervals: 3, from: null, to: null, gaps: [], gapCount: 2 },
            stuckWindows: [
              {
                purpose: 'backfill',
                from: '2026-12-05T05:00:00.000Z',
                failures: 4,
                since: null,
                code: 'WOLKVOX_UNAVAILABLE',
              },
            ],
            backfills: [
              {
                id: 'b',
                from: '2026-12-05T05:00:00.000Z',
                to: '2026-12-06T05:00:00.000Z',
                windowMs: 3_600_000,
                next: '2026-12-05T08:00:00.000Z',
                windowsDone: 3,
                windowsTotal: 24,
                published: 10,
                fetched: 10,
                state: 'stopped',
                failures: 0,
                error: null,
                startedAt: null,
                updatedAt: null,
              },
            ],
          }),
        ],
      },
      nowMs,
    )
    expect(text.split('\n')).toEqual([
      'operations   2 (1 failing, 1 ok)',
      'max lag      4m 10s (0011; lagging beyond 5m 30s)',
      'quota today  1,234 of 100,000 calls used',
      'last poll    12s ago',
      'last error   KAFKA_UNAVAILABLE (0011, live) 3m 00s ago',
      '',
      'SERVER  STATE    WATERMARK (local)       LAG  LAST SUCCESS    LAST ERROR                       QUOTA LEFT  GAPS',
      '0010    ok       2026-12-06 08:15:00  5m 00s  12s ago (live)  -                             49,800/50,000     0',
      '0011    failing  2026-12-06 08:15:50  4m 10s  -               KAFKA_UNAVAILABLE 3m 00s ago  49,800/50,000     2',
      '',
      '0011: backfill window from 2026-12-05 00:00:00 failed 4 times (WOLKVOX_UNAVAILABLE)',
      '0011: last error (live): Kafka is away\\u001b[2J',
      '0011: backfill 2026-12-05 00:00:00 to 2026-12-06 00:00:00 stopped, 3/24 windows',
      '',
    ])
  })

  it('prints the summary alone for --summary', () => {
    const text = renderStatus(
      {
        generatedAt: '',
        summary: { ...summary, maxLag: null, lastError: null, lastPollAt: null },
      },
      nowMs,
    )
    expect(text).toBe(
      [
        'operations   2 (1 failing, 1 ok)',
        'max lag      -',
        'quota today  1,234 of 100,000 calls used',
        'last poll    -',
        'last error   -',
        '',
      ].join('\n'),
    )
  })

  it('formats ages and local times', () => {
    expect([0, 12_400, 250_000, 3_720_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatAge)).toEqual([
      '0s',
      '12s',
      '4m 10s',
      '1h 02m',
      '3d 04h',
    ])
    expect(localTime('2026-12-06T13:15:00Z', 'America/Bogota')).toBe('2026-12-06 08:15:00')
    expect(localTime('2026-12-06T00:00:00Z', 'Asia/Tokyo')).toBe('2026-12-06 09:00:00')
    expect(localTime(null, 'UTC')).toBe('-')
  })
})
