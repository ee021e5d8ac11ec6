import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InputError } from '@wolkvox-chat-stream/observability'
import {
  briefOf,
  classifyOperation,
  lagThresholdSeconds,
  OPERATION_STATES,
  selectOperations,
  stateRules,
  summarize,
  worstFirst,
  type OperationFacts,
  type OperationState,
  type StateFacts,
  type StatusPageInfo,
} from './status.js'
import { offsetParser, stateListParser } from './status-http.js'

const NOW = Date.parse('2025-02-12T15:00:00Z')
const S = 1000
// POLL_INTERVAL 5m, POLL_SETTLE_LAG 2m: lagging beyond 17 minutes.
const config = { intervalMs: 300 * S, settleLagMs: 120 * S, stuckAfter: 3 }
const rules = stateRules(config, NOW)

const facts = (over: Partial<StateFacts> = {}): StateFacts => ({
  watermarkMs: NOW - 200 * S,
  failures: {},
  paused: false,
  checkpointMissing: false,
  ...over,
})

const operation = (server: string, over: Partial<OperationFacts> = {}): OperationFacts => ({
  server,
  ...facts(),
  quotaUsed: 0,
  budget: 1000,
  lastSuccessAtMs: null,
  lastError: null,
  ...over,
})

describe('classifyOperation', () => {
  it('is ok while the watermark trails by less than the settle lag and three intervals', () => {
    expect(lagThresholdSeconds(config)).toBe(1020)
    expect(rules.lagThresholdSeconds).toBe(1020)
    expect(classifyOperation(facts(), rules)).toBe('ok')
    expect(classifyOperation(facts({ watermarkMs: NOW - 1020 * S }), rules)).toBe('ok')
    expect(classifyOperation(facts({ watermarkMs: NOW - 1021 * S }), rules)).toBe('lagging')
  })

  it('is never_polled without a watermark', () => {
    expect(classifyOperation(facts({ watermarkMs: null }), rules)).toBe('never_polled')
  })

  it('is failing after a failed live or sweep poll, or a stuck window of any purpose', () => {
    expect(classifyOperation(facts({ failures: { live: 1 } }), rules)).toBe('failing')
    expect(classifyOperation(facts({ failures: { sweep: 1 } }), rules)).toBe('failing')
    // A failed backfill window or `once` alone is not the operation failing, until stuck.
    expect(classifyOperation(facts({ failures: { backfill: 2 } }), rules)).toBe('ok')
    expect(classifyOperation(facts({ failures: { once: 2 } }), rules)).toBe('ok')
    expect(classifyOperation(facts({ failures: { backfill: 3 } }), rules)).toBe('failing')
    expect(classifyOperation(facts({ failures: { live: 0 } }), rules)).toBe('ok')
    // A new operation whose first poll failed: failing, not never_polled.
    expect(classifyOperation(facts({ watermarkMs: null, failures: { live: 1 } }), rules)).toBe(
      'failing',
    )
  })

  it('takes the worst state that applies', () => {
    const all = facts({
      watermarkMs: NOW - 86_400 * S,
      failures: { live: 5 },
      paused: true,
      checkpointMissing: true,
    })
    expect(classifyOperation(all, rules)).toBe('checkpoint_missing')
    expect(classifyOperation({ ...all, checkpointMissing: false }, rules)).toBe('paused')
    expect(classifyOperation({ ...all, checkpointMissing: false, paused: false }, rules)).toBe(
      'failing',
    )
  })
})

describe('summarize', () => {
  it('counts every state, finds the largest lag, sums the quota, the newest poll and error', () => {
    const fleet = [
      operation('0030', {
        watermarkMs: NOW - 5000 * S,
        quotaUsed: 10,
        lastSuccessAtMs: NOW - 60 * S,
      }),
      operation('0010', {
        watermarkMs: NOW - 5000 * S,
        quotaUsed: 5,
        lastError: { atMs: NOW - 30 * S, purpose: 'live', code: 'WOLKVOX_MAINTENANCE' },
        failures: { live: 1 },
      }),
      operation('0020', {
        paused: true,
        budget: 500,
        lastError: { atMs: NOW - 3600 * S, purpose: 'live', code: 'WOLKVOX_TOKEN_INVALID' },
        lastSuccessAtMs: NOW - 7200 * S,
      }),
      operation('0040', { watermarkMs: null }),
      operation('0050', { checkpointMissing: true, quotaUsed: 1 }),
      operation('0060', { lastSuccessAtMs: NOW - 10 * S }),
    ]
    expect(summarize(fleet, rules)).toEqual({
      operations: 6,
      states: {
        checkpoint_missing: 1,
        paused: 1,
        failing: 1,
        lagging: 1,
        never_polled: 1,
        ok: 1,
      },
      lagThresholdSeconds: 1020,
      // A tie: the lower code.
      maxLag: { server: '0010', seconds: 5000 },
      quota: { used: 16, budget: 5500 },
      lastPollAt: new Date(NOW - 10 * S).toISOString(),
      lastError: {
        server: '0010',
        at: new Date(NOW - 30 * S).toISOString(),
        purpose: 'live',
        code: 'WOLKVOX_MAINTENANCE',
      },
    })
  })

  it('has every state at 0 and nulls for no operation', () => {
    expect(summarize([], rules)).toEqual({
      operations: 0,
      states: Object.fromEntries(OPERATION_STATES.map((s) => [s, 0])),
      lagThresholdSeconds: 1020,
      maxLag: null,
      quota: { used: 0, budget: 0 },
      lastPollAt: null,
      lastError: null,
    })
  })

  it("gives each operation's brief its state and lag", () => {
    expect(briefOf(operation('0010', { watermarkMs: NOW - 90 * S }), rules)).toEqual({
      server: '0010',
      state: 'ok',
      watermark: new Date(NOW - 90 * S).toISOString(),
      lagSeconds: 90,
    })
    expect(briefOf(operation('0011', { watermarkMs: null }), rules)).toMatchObject({
      state: 'never_polled',
      watermark: null,
      lagSeconds: null,
    })
  })
})

describe('order and pages', () => {
  const brief = (server: string, state: OperationState) => ({ server, state })

  it('puts the worst state first, then the server code', () => {
    const list = [
      brief('0003', 'ok'),
      brief('0002', 'never_polled'),
      brief('0009', 'failing'),
      brief('0001', 'failing'),
      brief('0005', 'lagging'),
      brief('0004', 'paused'),
      brief('0008', 'checkpoint_missing'),
    ]
    expect([...list].sort(worstFirst).map((b) => b.server)).toEqual([
      '0008',
      '0004',
      '0001',
      '0009',
      '0005',
      '0002',
      '0003',
    ])
  })

  it('pages with offset and limit, next null on the last page, 50 by default', () => {
    const list = Array.from({ length: 120 }, (_, i) => brief(String(1000 + i), 'ok'))
    const first = selectOperations(list, {})
    expect(first.page).toEqual({ offset: 0, limit: 50, total: 120, next: 50 })
    expect(first.items[0]!.server).toBe('1000')
    expect(selectOperations(list, { offset: 100 }).page).toEqual({
      offset: 100,
      limit: 50,
      total: 120,
      next: null,
    })
    expect(selectOperations(list, { offset: 100 }).items).toHaveLength(20)
    expect(selectOperations(list, { offset: 70, limit: 50 }).page.next).toBeNull()
    expect(selectOperations(list, { offset: 69, limit: 50 }).page.next).toBe(119)
    expect(selectOperations(list, { offset: 500 })).toEqual({
      items: [],
      page: { offset: 500, limit: 50, total: 120, next: null },
    })
  })

  it('filters by state and by server before paging', () => {
    const list = [
      brief('0001', 'ok'),
      brief('0002', 'failing'),
      brief('0003', 'paused'),
      brief('0004', 'failing'),
    ]
    const failing = selectOperations(list, { states: ['failing', 'paused'], limit: 2 })
    expect(failing.items.map((b) => b.server)).toEqual(['0003', '0002'])
    expect(failing.page).toEqual({ offset: 0, limit: 2, total: 3, next: 2 })
    expect(selectOperations(list, { server: '0004' }).items).toEqual([brief('0004', 'failing')])
    expect(selectOperations(list, { server: '0004', states: ['ok'] }).page.total).toBe(0)
  })

  it('covers every operation exactly once, walking next from any limit', () => {
    const state = fc.constantFrom(...OPERATION_STATES)
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[0-9]{1,6}$/u), { maxLength: 300 }),
        fc.array(state, { minLength: 300, maxLength: 300 }),
        fc.integer({ min: 1, max: 500 }),
        fc.option(fc.subarray([...OPERATION_STATES], { minLength: 1 }), { nil: undefined }),
        (servers, states, limit, filter) => {
          const list = servers.map((s, i) => brief(s, states[i]!))
          const seen: string[] = []
          let offset: number | null = 0
          let pages = 0
          while (offset !== null) {
            const answer = selectOperations(list, {
              offset,
              limit,
              ...(filter ? { states: filter } : {}),
            })
            const page: StatusPageInfo = answer.page
            seen.push(...answer.items.map((b) => b.server))
            expect(page.total).toBe(
              list.filter((b) => filter === undefined || filter.includes(b.state)).length,
            )
            offset = page.next
            pages += 1
          }
          const expected = list
            .filter((b) => filter === undefined || filter.includes(b.state))
            .sort(worstFirst)
            .map((b) => b.server)
          expect(seen).toEqual(expected)
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)))
        },
      ),
    )
  })
})

describe('the query parsers', () => {
  it('reads a comma list of states, once each', () => {
    expect(stateListParser('failing')).toEqual(['failing'])
    expect(stateListParser('failing,paused, failing')).toEqual(['failing', 'paused'])
    for (const bad of ['FAILING', 'failing,', 'nope', ',', 'ok;paused'])
      expect(() => stateListParser(bad), bad).toThrow(InputError)
  })

  it('reads an offset from 0', () => {
    expect(offsetParser('0')).toBe(0)
    expect(offsetParser('150')).toBe(150)
    for (const bad of ['-1', '1.5', '1e3', 'abc', '0x10', '9999999999'])
      expect(() => offsetParser(bad), bad).toThrow(InputError)
  })
})
