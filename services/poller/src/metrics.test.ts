import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createPollerMetrics } from './metrics.js'

const setup = () => {
  const registry = createMetricsRegistry({ collectDefaultMetrics: false })
  const metrics = createPollerMetrics(registry, { intervalMs: 300_000, stuckAfter: 3 })
  return { registry, metrics }
}

describe('createPollerMetrics', () => {
  it('starts the counters the alerts watch at zero for each operation, and serves its interval', async () => {
    const { registry, metrics } = setup()
    metrics.observer('0010')
    metrics.lockHooks('0010')
    const text = await registry.metrics()
    expect(text).toContain('wolkvox_poller_dead_lettered_total{server="0010"} 0')
    expect(text).toContain('wolkvox_poller_events_revised_total{server="0010"} 0')
    for (const reason of ['expired', 'lost', 'unconfirmed'])
      expect(text).toContain(`wolkvox_poller_lock_lost_total{server="0010",reason="${reason}"} 0`)
    expect(text).toContain('wolkvox_poller_interval_seconds{server="0010"} 300')
  })

  it('counts revised events apart, and among the published ones', async () => {
    const { registry, metrics } = setup()
    metrics
      .observer('0010')
      .onPublished?.({ published: 10, revised: 4, duplicates: 90, deadLettered: 0, fetched: 100 })
    const text = await registry.metrics()
    expect(text).toContain('wolkvox_poller_events_published_total{server="0010"} 10')
    expect(text).toContain('wolkvox_poller_events_revised_total{server="0010"} 4')
    expect(text).toContain('wolkvox_poller_duplicates_skipped_total{server="0010"} 90')
  })

  it('reports a window stuck from POLL_STUCK_AFTER failures in a row, and free again after a success', async () => {
    const { registry, metrics } = setup()
    const stuck = async () =>
      (await registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('wolkvox_poller_window_stuck'))
    metrics.failuresInARow.set({ server: '0010', purpose: 'live' }, 2)
    metrics.failuresInARow.set({ server: '0010', purpose: 'sweep' }, 0)
    expect(await stuck()).toEqual([
      'wolkvox_poller_window_stuck{server="0010",purpose="live"} 0',
      'wolkvox_poller_window_stuck{server="0010",purpose="sweep"} 0',
    ])
    metrics.failuresInARow.set({ server: '0010', purpose: 'live' }, 3)
    expect(await stuck()).toContain('wolkvox_poller_window_stuck{server="0010",purpose="live"} 1')
    metrics.failuresInARow.set({ server: '0010', purpose: 'live' }, 0)
    expect(await stuck()).toContain('wolkvox_poller_window_stuck{server="0010",purpose="live"} 0')
  })

  it('reports what Redis holds, so every replica reports the same lag and stuck windows', async () => {
    const { registry, metrics } = setup()
    const line = async (prefix: string) =>
      (await registry.metrics()).split('\n').find((l) => l.startsWith(prefix))
    // This replica's own last poll is an hour old; another replica has moved the watermark since.
    metrics.setWatermark('0010', Date.now() - 3_600_000)
    metrics.failuresInARow.set({ server: '0010', purpose: 'live' }, 3)
    metrics.syncFromStore('0010', {
      watermarkMs: Date.now() - 120_000,
      failures: { live: 0, sweep: 4 },
    })
    const lag = Number((await line('wolkvox_poller_lag_seconds'))?.split(' ')[1])
    expect(lag).toBeGreaterThanOrEqual(120)
    expect(lag).toBeLessThan(130)
    expect(await line('wolkvox_poller_window_stuck{server="0010",purpose="live"}')).toMatch(/ 0$/)
    expect(await line('wolkvox_poller_window_stuck{server="0010",purpose="sweep"}')).toMatch(/ 1$/)
  })

  it('holds the maintenance flag from a maintenance answer until a call succeeds', async () => {
    const { registry, metrics } = setup()
    const observer = metrics.observer('0010')
    const flag = async () =>
      /wolkvox_poller_upstream_maintenance\{server="0010"\} (\d)/.exec(
        await registry.metrics(),
      )?.[1]
    expect(await flag()).toBeUndefined()
    observer.onRequest?.('WOLKVOX_MAINTENANCE', 10, 0)
    expect(await flag()).toBe('1')
    observer.onRequest?.('WOLKVOX_DEADLINE_EXCEEDED', 10, 0)
    expect(await flag()).toBe('1')
    observer.onRequest?.('ok', 10, 100)
    expect(await flag()).toBe('0')
  })
})
