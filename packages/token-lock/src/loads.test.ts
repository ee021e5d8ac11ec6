/*
 * The package loads: imported inside the test (after `vi.resetModules()`), not at the top of the
 * file. Its keys are built when the module loads; a fault there (a key name the key builder
 * refuses) then fails this test instead of only failing to load the files that import the
 * package, which a test runner may report as no test at all (Stryker's Vitest runner does:
 * README, Mutation testing).
 */
import { describe, expect, it, vi } from 'vitest'

describe('@wolkvox-chat-stream/token-lock', () => {
  it('loads, with its lease functions', async () => {
    vi.resetModules()
    const lock = await import('./index.js')
    expect(typeof lock.createTokenLock).toBe('function')
    expect(typeof lock.markRedisInitialised).toBe('function')
    expect(lock.leaseLostReasons.length).toBeGreaterThan(0)
  })
})
