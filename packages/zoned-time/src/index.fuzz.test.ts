import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectOnlyAppErrors, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import {
  dayWindow,
  formatWallClock,
  instantsOfWall,
  isTimeZone,
  localDate,
  parseTimeBound,
  parseWallClock,
  wallClockToEpochMs,
  wallOf,
  type WallFields,
} from './index.js'

/** Zones with DST, half-hour and 45-minute offsets, a skipped day and midnight transitions. */
const zones = [
  'UTC',
  'America/Bogota',
  'America/New_York',
  'Europe/Madrid',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Apia',
  'Africa/Casablanca',
] as const
const zone = fc.constantFrom(...zones)

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
const dashed = (f: WallFields): string =>
  `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`
const compact = (f: WallFields): string =>
  `${pad(f.year, 4)}${pad(f.month)}${pad(f.day)}${pad(f.hour)}${pad(f.minute)}${pad(f.second)}`

/** Calendar-valid wall-clock fields of years 1 to 9999 (the years parseWallClock accepts). */
const validFields = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 120 })),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
  })
  .map((f) => {
    const daysInMonth = new Date(Date.UTC(2000, f.month, 0)).getUTCDate()
    const leap = f.year % 4 === 0 && (f.year % 100 !== 0 || f.year % 400 === 0)
    const last = f.month === 2 ? (leap ? 29 : 28) : daysInMonth
    return { ...f, day: Math.min(f.day, last) }
  })

/** Text shaped like the time formats, with wrong digits, separators and lengths mixed in. */
const timeLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^\d{4}-?\d\d-?\d\d[ T]?\d\d:?\d\d:?\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$/),
  fc.stringMatching(/^\d{8}$|^\d{14}$|^\d{4}-\d\d-\d\d( \d\d:\d\d)?$/),
  fc.constantFrom('0000-01-01T00:00:00+14:00', '9999-12-31T23:59:59-12:00', '0000-06-01T00:00:00Z'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  validFields.map(dashed),
  validFields.map(compact),
)

const NOW_MS = Date.UTC(2026, 11, 6, 12)
/** parseTimeBound's instant, or `undefined` for its refusal. */
const readInstant = (text: string, zone: string): number | undefined => {
  const parsed = parseTimeBound(text, zone, { nowMs: NOW_MS })
  return parsed.ok ? parsed.ms : undefined
}

/** Whole-second instants of years 1000 to 9999, where formatWallClock writes 14 digits. */
const instant = fc
  .integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
  .map((ms) => Math.floor(ms / 1000) * 1000)

const DATE_LIMIT_MS = 8.64e15

describe('parseWallClock on any text', () => {
  it('never throws and returns only calendar-valid fields, fast', () => {
    fc.assert(
      fc.property(timeLike, (text) => {
        const fields = withinMs(() => parseWallClock(text), undefined, text)
        if (fields === undefined) return
        expect(fields.year).toBeGreaterThanOrEqual(1)
        expect(fields.year).toBeLessThanOrEqual(9999)
        expect(parseWallClock(dashed(fields))).toEqual(fields)
      }),
      { numRuns: 3_000 },
    )
  })

  it('reads back every calendar-valid time it can be given, in both forms', () => {
    fc.assert(
      fc.property(validFields, (fields) => {
        expect(parseWallClock(dashed(fields))).toEqual(fields)
        expect(parseWallClock(compact(fields))).toEqual(fields)
      }),
      { numRuns: 3_000 },
    )
  })
})

describe('wallClockToEpochMs and formatWallClock', () => {
  it('never throw for a known zone, and give an instant in the Date range', () => {
    fc.assert(
      fc.property(timeLike, zone, (text, z) => {
        const ms = withinMs(() => wallClockToEpochMs(text, z), undefined, text)
        if (ms !== undefined) {
          expect(Number.isSafeInteger(ms)).toBe(true)
          expect(Math.abs(ms)).toBeLessThanOrEqual(DATE_LIMIT_MS)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: the instant read from a formatted time shows the same wall clock', () => {
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const text = formatWallClock(ms, z)
        expect(text).toMatch(/^\d{14}$/)
        const back = wallClockToEpochMs(text, z)
        expect(back).toBeDefined()
        // A fall-back hour shows twice: the earlier instant is read, with the same wall clock.
        expect(back!).toBeLessThanOrEqual(ms)
        expect(formatWallClock(back!, z)).toBe(text)
        if (z === 'UTC') expect(back).toBe(ms)
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: a valid wall-clock text that exists in the zone is written back as read', () => {
    fc.assert(
      fc.property(
        validFields.filter((f) => f.year >= 1000),
        zone,
        (fields, z) => {
          const ms = wallClockToEpochMs(dashed(fields), z)!
          const written = formatWallClock(ms, z)
          // A time skipped by a DST jump is read with the offset before the jump, so it is
          // written as the time after the jump; every other time is written as it was read.
          if (written !== compact(fields)) {
            expect(instantsOfWall(wallOf(fields), z)).toEqual([])
            expect(written > compact(fields)).toBe(true)
          }
        },
      ),
      { numRuns: 2_000 },
    )
  })
})

describe('parseTimeBound on any text', () => {
  it('never throws for a known zone and gives an instant in the Date range, fast', () => {
    fc.assert(
      fc.property(timeLike, zone, (text, z) => {
        const ms = withinMs(
          () => expectOnlyAppErrors(() => readInstant(text, z), [], text),
          undefined,
          text,
        )
        if (!ms.ok || ms.value === undefined) return
        expect(Number.isFinite(ms.value)).toBe(true)
        expect(Math.abs(ms.value)).toBeLessThanOrEqual(DATE_LIMIT_MS)
        // Whatever it reads has a local date and a local day holding it (the services' queries).
        expect(localDate(ms.value, z)).toMatch(/^\d{4}-\d\d-\d\d$/)
        const day = dayWindow(ms.value, z)
        expect(day.startMs <= ms.value && ms.value < day.endMs).toBe(true)
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: reads an ISO 8601 instant exactly, and a formatted wall clock to its wall', () => {
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        expect(readInstant(new Date(ms).toISOString(), z)).toBe(ms)
        const wall = formatWallClock(ms, z)
        expect(formatWallClock(readInstant(wall, z)!, z)).toBe(wall)
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('isTimeZone on any text', () => {
  it('never throws, fast', () => {
    fc.assert(
      fc.property(timeLike, (text) => {
        expect(typeof withinMs(() => isTimeZone(text), undefined, text)).toBe('boolean')
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('regressions found by the properties above', () => {
  it('reads the years 1 to 99 as themselves, not as 1901 to 1999', () => {
    expect(parseWallClock('0001-01-01 00:00:00')).toEqual({
      year: 1,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
    })
    expect(parseWallClock('00480229120000')?.day).toBe(29)
    expect(parseWallClock('0050-02-29 00:00:00')).toBeUndefined()
    expect(wallClockToEpochMs('0050-01-01 00:00:00', 'UTC')).toBe(
      Date.parse('0050-01-01T00:00:00Z'),
    )
  })

  it('refuses an ISO time an offset carries out of the years 1 to 9999 (its day read "00-1-12-31")', () => {
    expect(readInstant('0000-01-01T00:00:00+14:00', 'America/Bogota')).toBeUndefined()
    expect(readInstant('9999-12-31T23:00:00-12:00', 'UTC')).toBeUndefined()
    expect(readInstant('0001-01-01T05:00:00Z', 'America/Bogota')).toBe(
      Date.parse('0001-01-01T05:00:00Z'),
    )
  })

  it('gives an instant of the year 50 the local day that holds it (it gave a day of 1950)', () => {
    const ms = readInstant('0050-06-01T12:00:00Z', 'UTC')!
    expect(dayWindow(ms, 'UTC')).toEqual({
      startMs: ms - 12 * 3_600_000,
      endMs: ms + 12 * 3_600_000,
    })
  })
})
