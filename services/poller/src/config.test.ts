import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { readPollerConfig, reserveCalls } from './config.js'

const NOW = Date.parse('2025-02-11T15:00:00Z')
const dir = mkdtempSync(join(tmpdir(), 'poller-config-'))

function file(name: string, content: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    readPollerConfig(env, NOW)
  } catch (error) {
    expect(error).toBeInstanceOf(AppError)
    const details = (error as AppError).details as {
      problems: { variable: string; problem: string }[]
    }
    return details.problems.map((p) => `${p.variable}: ${p.problem}`)
  }
  throw new Error('expected CONFIG_INVALID')
}

describe('readPollerConfig: one operation', () => {
  it('keeps the single-operation variables working, with the new defaults', () => {
    const config = readPollerConfig({ WOLKVOX_SERVER: '0010', WOLKVOX_TOKEN: 'tok-a' }, NOW)
    expect(config.operations).toHaveLength(1)
    expect(config.operations[0]).toMatchObject({
      server: '0010',
      timeZone: 'America/Bogota',
      startMs: NOW - 3_600_000,
      dailyQuota: 1000,
    })
    expect(config).toMatchObject({
      intervalMs: 300_000,
      sweepIntervalMs: 3_600_000,
      sweepLookbackMs: 25 * 3_600_000,
      quotaReserve: { auto: true },
      concurrency: 4,
      shutdownTimeoutMs: 20_000,
      stuckAfter: 3,
      backfill: { lockWaitMs: 5_000, pauseMs: 1_000 },
      privacy: { hashCustomerIds: false, redactImages: false },
      httpPort: 8081,
    })
  })

  it('refuses a sweep or a lookback that reaches past the published set horizon', () => {
    const base = { WOLKVOX_SERVER: '0010', WOLKVOX_TOKEN: 'tok-a' }
    const extras: Record<string, string>[] = [
      { POLL_SWEEP_LOOKBACK: '3d' },
      { POLL_SWEEP_LOOKBACK: '4d' },
      { POLL_DEDUP_HORIZON: '1d' },
      { POLL_LOOKBACK: '3d', POLL_SWEEP_LOOKBACK: '1h' },
    ]
    for (const extra of extras) {
      expect(problemsOf({ ...base, ...extra })).toEqual([
        expect.stringMatching(
          /^POLL_DEDUP_HORIZON: must be longer than POLL_LOOKBACK and POLL_SWEEP_LOOKBACK/,
        ),
      ])
    }
    const longer = readPollerConfig(
      { ...base, POLL_SWEEP_LOOKBACK: '47h', POLL_DEDUP_HORIZON: '2d' },
      NOW,
    )
    expect(longer).toMatchObject({
      sweepLookbackMs: 47 * 3_600_000,
      dedupHorizonMs: 2 * 86_400_000,
    })
  })

  it('refuses a base URL the client would refuse, at start', () => {
    expect(
      problemsOf({
        WOLKVOX_SERVER: '0010',
        WOLKVOX_TOKEN: 'tok-a',
        WOLKVOX_BASE_URL: 'http://evil.example.com',
      }).join('\n'),
    ).toContain('WOLKVOX_BASE_URL')
  })

  it('needs a key of 16 characters or more to hash customer ids, and never prints it', () => {
    const problems = problemsOf({
      WOLKVOX_SERVER: '0010',
      WOLKVOX_TOKEN: 'tok-a',
      POLL_HASH_CUSTOMER_IDS: 'true',
      POLL_HASH_KEY: 'short-key',
    })
    expect(problems.join('\n')).toContain('POLL_HASH_KEY')
    expect(problems.join('\n')).not.toContain('short-key')
    const ok = readPollerConfig(
      {
        WOLKVOX_SERVER: '0010',
        WOLKVOX_TOKEN: 'tok-a',
        POLL_HASH_CUSTOMER_IDS: 'true',
        POLL_HASH_KEY: 'a-long-enough-secret-key',
        POLL_REDACT_IMAGES: 'true',
      },
      NOW,
    )
    expect(ok.privacy.hashCustomerIds).toBe(true)
    expect(String(ok.privacy.hashKey)).toBe('[redacted]')
    expect(JSON.stringify(ok)).not.toContain('a-long-enough-secret-key')
  })

  it('reads the quota reserve as auto (the default), a share or calls', () => {
    const needs = {
      remainingMs: 12 * 3_600_000,
      intervalMs: 300_000,
      sweepIntervalMs: 3_600_000,
      sweepLookbackMs: 25 * 3_600_000,
      maxWindowMs: 6 * 3_600_000,
    }
    const auto = readPollerConfig({ WOLKVOX_SERVER: '1', WOLKVOX_TOKEN: 't' }, NOW)
    expect(auto.quotaReserve).toEqual({ auto: true })
    // 12 h left: 144 polls and 12 sweeps of 5 calls, plus a tenth.
    expect(reserveCalls(auto.quotaReserve, 1000, needs)).toBe(Math.ceil((144 + 60) * 1.1))
    expect(reserveCalls(auto.quotaReserve, 1000, { ...needs, remainingMs: 1_000 })).toBe(7)
    expect(reserveCalls(auto.quotaReserve, 100, needs)).toBe(100)
    const share = readPollerConfig(
      { WOLKVOX_SERVER: '1', WOLKVOX_TOKEN: 't', POLL_QUOTA_RESERVE: '25%' },
      NOW,
    )
    expect(reserveCalls(share.quotaReserve, 1000, needs)).toBe(250)
    const calls = readPollerConfig(
      { WOLKVOX_SERVER: '1', WOLKVOX_TOKEN: 't', POLL_QUOTA_RESERVE: '300' },
      NOW,
    )
    expect(reserveCalls(calls.quotaReserve, 1000, needs)).toBe(300)
    expect(
      problemsOf({ WOLKVOX_SERVER: '1', WOLKVOX_TOKEN: 't', POLL_QUOTA_RESERVE: 'lots' }),
    ).toEqual([
      'POLL_QUOTA_RESERVE: "lots" is not auto, a share such as 20%, nor a number of calls',
    ])
  })
})

describe('readPollerConfig: WOLKVOX_OPERATIONS_FILE', () => {
  it('reads several operations, each with its token from a variable or a file, and defaults', () => {
    const tokenFile = file('token-3211', 'tok-b\n')
    const path = file('ops.json', [
      { server: '0010', tokenEnv: 'TOKEN_0010', start: '2025-02-01 00:00:00', dailyQuota: 3000 },
      {
        server: '3211',
        tokenFile,
        timeZone: 'America/Mexico_City',
        baseUrl: 'http://127.0.0.1:8089',
      },
    ])
    const config = readPollerConfig(
      {
        WOLKVOX_OPERATIONS_FILE: path,
        TOKEN_0010: 'tok-a',
        WOLKVOX_TIMEZONE: 'America/Lima',
        POLL_DAILY_QUOTA: '2000',
      },
      NOW,
    )
    expect(config.operationsFile).toBe(path)
    const [a, b] = config.operations
    expect(a).toMatchObject({
      server: '0010',
      timeZone: 'America/Lima',
      startMs: Date.parse('2025-02-01T05:00:00Z'),
      dailyQuota: 3000,
    })
    expect(a!.token.reveal()).toBe('tok-a')
    expect(a!.baseUrl).toBeUndefined()
    expect(b).toMatchObject({
      server: '3211',
      timeZone: 'America/Mexico_City',
      startMs: NOW - 3_600_000,
      dailyQuota: 2000,
      baseUrl: 'http://127.0.0.1:8089',
    })
    expect(b!.token.reveal()).toBe('tok-b')
  })

  it('lists every problem of the file in one error: file, index and field', () => {
    const path = file('bad.json', [
      { server: '0010', tokenEnv: 'TOKEN_A' },
      { server: '0010', tokenEnv: 'TOKEN_B' },
      { server: '1.evil.com#', tokenEnv: 'TOKEN_C' },
      { server: '0020', tokenEnv: 'TOKEN_A2', timeZone: 'Mars/Olympus', tokenenv: 'x' },
      { server: '0030' },
      { server: '0040', tokenEnv: 'UNSET_TOKEN', start: 'yesterday-ish' },
      { server: '0050', tokenEnv: 'TOKEN_D', tokenFile: '/nope', dailyQuota: 0 },
      'not an object',
    ])
    const problems = problemsOf({
      WOLKVOX_OPERATIONS_FILE: path,
      TOKEN_A: 'canary-one',
      TOKEN_A2: 'canary-one',
      TOKEN_B: 'canary-two',
      TOKEN_C: 'canary-three',
      TOKEN_D: 'canary-four',
    })
    const text = problems.join('\n')
    expect(problems.every((p) => p.startsWith('WOLKVOX_OPERATIONS_FILE: '))).toBe(true)
    for (const expected of [
      `${path}[1].server 0010 is already the server of ${path}[0]`,
      `${path}[2].server must be 1 to 6 digits`,
      `${path}[3].tokenenv is not a known field`,
      `${path}[3].timeZone "Mars/Olympus" is not an IANA time zone`,
      `${path}[3] uses the same token as ${path}[0]`,
      `${path}[4] needs tokenEnv`,
      `${path}[5].tokenEnv names UNSET_TOKEN, which is not set`,
      `${path}[5].start: "yesterday-ish" is not a time`,
      `${path}[6] has both tokenEnv and tokenFile`,
      `${path}[6].dailyQuota must be a whole number`,
      `${path}[7] must be an object`,
    ])
      expect(text).toContain(expected)
    expect(text).not.toMatch(/canary/)
  })

  it('never echoes the file when it is not JSON (a token may have been pasted in it)', () => {
    const path = file('broken.json', '[{"server": "0010", "token": "canary-pasted-token"')
    const problems = problemsOf({ WOLKVOX_OPERATIONS_FILE: path })
    expect(problems).toEqual([`WOLKVOX_OPERATIONS_FILE: ${path} is not valid JSON`])
  })

  it('refuses a file together with single-operation variables, and a missing file', () => {
    const path = file('one.json', [{ server: '0010', tokenEnv: 'T' }])
    expect(problemsOf({ WOLKVOX_OPERATIONS_FILE: path, T: 'x', WOLKVOX_SERVER: '0010' })).toEqual([
      'WOLKVOX_SERVER: set either WOLKVOX_OPERATIONS_FILE or a single operation, not both',
    ])
    expect(problemsOf({ WOLKVOX_OPERATIONS_FILE: join(dir, 'absent.json') })).toEqual([
      `WOLKVOX_OPERATIONS_FILE: ${join(dir, 'absent.json')} cannot be read`,
    ])
    expect(problemsOf({ WOLKVOX_OPERATIONS_FILE: file('empty.json', []) })[0]).toContain(
      'must be a non-empty JSON array',
    )
  })
})
