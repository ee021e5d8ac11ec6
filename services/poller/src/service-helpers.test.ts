import { describe, expect, it } from 'vitest'
import { localDay, nextLocalMidnight } from './local-day.js'
import { coverageGaps } from './operation-store.js'
import { createProgressReporter, estimateEtaMs, formatEta, progressLine } from './progress.js'

const S = 1000

describe('coverageGaps', () => {
  const r = (fromS: number, toS: number) => ({ fromMs: fromS * S, toMs: toS * S })

  it('finds the holes between covered ranges, inclusive seconds', () => {
    expect(coverageGaps([r(0, 9), r(20, 29), r(40, 49)], 0, 49 * S)).toEqual([r(10, 19), r(30, 39)])
  })

  it('reports the uncovered ends and nothing for a whole range', () => {
    expect(coverageGaps([r(10, 19)], 0, 29 * S)).toEqual([r(0, 9), r(20, 29)])
    expect(coverageGaps([r(0, 100)], 10 * S, 20 * S)).toEqual([])
    expect(coverageGaps([], 0, 9 * S)).toEqual([r(0, 9)])
  })
})

describe('local days (the quota day)', () => {
  it('uses the operation zone', () => {
    // 03:00 UTC is still the previous evening in Bogotá (UTC-5).
    expect(localDay(Date.parse('2025-02-12T03:00:00Z'), 'America/Bogota')).toBe('20250211')
    expect(localDay(Date.parse('2025-02-12T03:00:00Z'), 'UTC')).toBe('20250212')
    expect(nextLocalMidnight(Date.parse('2025-02-12T03:00:00Z'), 'America/Bogota')).toBe(
      Date.parse('2025-02-12T05:00:00Z'),
    )
  })

  it('finds the next day start across daylight-saving changes', () => {
    // Santiago moves its clocks at midnight: 2024-09-08 00:00 does not exist there.
    const next = nextLocalMidnight(Date.parse('2024-09-07T15:00:00Z'), 'America/Santiago')
    // The clocks go from 00:00 -04 to 01:00 -03, so the day starts at 01:00 -03, 04:00Z (the
    // first second after 23:59:59 -04, 03:59:59Z); no other instant will do.
    expect(next).toBe(Date.parse('2024-09-08T04:00:00Z'))
    expect(localDay(next, 'America/Santiago')).toBe('20240908')
    expect(localDay(next - 1000, 'America/Santiago')).toBe('20240907')
    expect(nextLocalMidnight(Date.parse('2024-11-03T12:00:00Z'), 'America/New_York')).toBe(
      Date.parse('2024-11-04T05:00:00Z'),
    )
  })
})

describe('backfill progress', () => {
  it('estimates the time left from the pace of this run', () => {
    expect(estimateEtaMs({ doneThisRun: 0, elapsedMs: 0, remaining: 10 })).toBeNull()
    expect(estimateEtaMs({ doneThisRun: 4, elapsedMs: 8_000, remaining: 6 })).toBe(12_000)
    expect(formatEta(12_000)).toBe('12s')
    expect(formatEta(250_000)).toBe('4m 10s')
    expect(formatEta(3_720_000)).toBe('1h 02m')
  })

  const progress = {
    server: '0010',
    window: { fromMs: 0, toMs: 3_599_000 },
    windowsDone: 12,
    windowsTotal: 48,
    published: 3456,
    fetched: 3500,
    etaMs: 250_000,
  }

  it('draws a line in place on a terminal', () => {
    const out: string[] = []
    const reporter = createProgressReporter({ write: (t: string) => out.push(t), isTTY: true })
    reporter.window(progress)
    expect(out[0]).toBe(`\r\x1b[2K${progressLine(progress)}`)
    expect(progressLine(progress)).toBe(
      '0010 backfill [######------------------] 12/48 windows 25% · 3,456 published · ETA 4m 10s',
    )
  })

  it('writes one JSON line per window elsewhere', () => {
    const out: string[] = []
    const reporter = createProgressReporter({ write: (t: string) => out.push(t) })
    reporter.window(progress)
    reporter.end({ server: '0010', windowsDone: 48 })
    expect(out.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        event: 'window',
        server: '0010',
        window: { from: '1970-01-01T00:00:00.000Z', to: '1970-01-01T00:59:59.000Z' },
        windowsDone: 12,
        windowsTotal: 48,
        published: 3456,
        fetched: 3500,
        etaSeconds: 250,
      },
      { event: 'end', server: '0010', windowsDone: 48 },
    ])
  })
})
