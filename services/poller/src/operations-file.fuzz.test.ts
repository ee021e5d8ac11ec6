import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { isSecret, type Env } from '@wolkvox-chat-stream/config'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { parseOperationsFile, type OperationDefaults } from './operations-file.js'

const dir = mkdtempSync(join(tmpdir(), 'operations-fuzz-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'token'), ' file-token-0123456789 \n')
writeFileSync(join(dir, 'empty'), '\n')
mkdirSync(join(dir, 'a-directory'))

const env: Env = {
  TOKEN_A: 'token-a-0123456789',
  TOKEN_B: ' token-b-0123456789 ',
  TOKEN_C: 'token-c-0123456789',
  BLANK: '   ',
}
const tokens = [
  'token-a-0123456789',
  'token-b-0123456789',
  'token-c-0123456789',
  'file-token-0123456789',
]
const defaults: OperationDefaults = { timeZone: 'America/Bogota', start: '1h', dailyQuota: 1000 }
const nowMs = Date.UTC(2025, 5, 1)
const DATE_LIMIT_MS = 8.64e15

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
/** A field's value: usually of the right kind, often not. */
const anyValue = fc.oneof(
  text,
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, 0, -1, 1.5, 1e21, true, [], {}),
)
const entry = fc.record(
  {
    server: fc.oneof(fc.stringMatching(/^\d{1,7}$/), anyValue),
    tokenEnv: fc.oneof(
      fc.constantFrom('TOKEN_A', 'TOKEN_B', 'TOKEN_C', 'BLANK', 'UNSET'),
      // Names of Object.prototype members: the env object has them, but they are not variables.
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
      anyValue,
    ),
    tokenFile: fc.oneof(
      fc.constantFrom('token', 'empty', 'a-directory', 'missing').map((f) => join(dir, f)),
      text.map((t) => join(dir, t.replace(/[./\\]/g, '_'))),
      anyValue.filter((v) => typeof v !== 'string'),
    ),
    timeZone: fc.oneof(fc.constantFrom('UTC', 'Europe/Madrid', 'Mars/Olympus', 'utc'), anyValue),
    start: fc.oneof(
      fc.constantFrom('1h', '2025-01-01 00:00:00', '20250101000000', '800000000d', '1w'),
      anyValue,
    ),
    baseUrl: fc.oneof(
      fc.constantFrom('https://example.test', 'http://127.0.0.1:9', 'http://evil.test', 'x'),
      anyValue,
    ),
    dailyQuota: fc.oneof(fc.integer({ min: -2, max: 5_000 }), anyValue),
    [`__proto__`]: anyValue,
    unknown: anyValue,
  },
  { requiredKeys: [] },
)
const fileText = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.json({ maxDepth: 3 }),
  fc.array(fc.oneof(entry, anyValue), { maxLength: 5 }).map((entries) => JSON.stringify(entries)),
  fc.array(entry, { minLength: 1, maxLength: 4 }).map((entries) => JSON.stringify(entries)),
)

describe('parseOperationsFile on any text', () => {
  it('never throws; every operation is usable and no problem shows a token, fast', () => {
    fc.assert(
      fc.property(fileText, (file) => {
        let result: ReturnType<typeof parseOperationsFile>
        try {
          result = withinMs(
            () => parseOperationsFile('ops.json', file, env, defaults, nowMs),
            undefined,
            file,
          )
        } catch (error) {
          throw new Error(`parseOperationsFile threw for ${file.slice(0, 200)}`, { cause: error })
        }
        const { operations, problems } = result
        for (const p of problems) {
          expect(p.startsWith('ops.json')).toBe(true)
          for (const token of tokens) expect(p).not.toContain(token)
        }
        const servers = new Set<string>()
        for (const op of operations) {
          expect(op.server).toMatch(/^\d{1,6}$/)
          expect(servers.has(op.server)).toBe(false)
          servers.add(op.server)
          expect(isSecret(op.token)).toBe(true)
          expect(tokens).toContain(op.token.reveal())
          expect(Number.isFinite(op.startMs) && Math.abs(op.startMs) <= DATE_LIMIT_MS).toBe(true)
          expect(Number.isSafeInteger(op.dailyQuota) && op.dailyQuota >= 1).toBe(true)
        }
        if (problems.length === 0) {
          expect(operations.length).toBe((JSON.parse(file) as unknown[]).length)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: a valid file gives one operation per entry, as written', () => {
    const validEntries = fc
      .uniqueArray(fc.stringMatching(/^\d{1,6}$/), { minLength: 1, maxLength: 3 })
      .chain((servers) =>
        fc.tuple(
          fc.constant(servers),
          fc.shuffledSubarray(['TOKEN_A', 'TOKEN_B', 'TOKEN_C'], {
            minLength: servers.length,
            maxLength: servers.length,
          }),
          fc.array(fc.constantFrom('UTC', 'America/Bogota', 'Europe/Madrid'), {
            minLength: servers.length,
            maxLength: servers.length,
          }),
          fc.array(fc.integer({ min: 1, max: 1_000_000 }), {
            minLength: servers.length,
            maxLength: servers.length,
          }),
        ),
      )
      .map(([servers, tokenEnvs, zones, quotas]) =>
        servers.map((server, i) => ({
          server,
          tokenEnv: tokenEnvs[i]!,
          timeZone: zones[i]!,
          dailyQuota: quotas[i]!,
          start: '2025-01-01 00:00:00',
        })),
      )
    fc.assert(
      fc.property(validEntries, (entries) => {
        const { operations, problems } = parseOperationsFile(
          'ops.json',
          JSON.stringify(entries),
          env,
          defaults,
          nowMs,
        )
        expect(problems).toEqual([])
        expect(
          operations.map((op) => ({
            server: op.server,
            tokenEnv: Object.keys(env).find((k) => env[k]!.trim() === op.token.reveal()),
            timeZone: op.timeZone,
            dailyQuota: op.dailyQuota,
            start: '2025-01-01 00:00:00',
          })),
        ).toEqual(entries)
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('regressions found by the properties above', () => {
  it('treats a tokenEnv naming an Object.prototype member as unset (it threw a TypeError)', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const file = JSON.stringify([{ server: '10', tokenEnv: name }])
      expect(parseOperationsFile('ops.json', file, env, defaults, nowMs)).toEqual({
        operations: [],
        problems: [`ops.json[0].tokenEnv names ${name}, which is not set`],
      })
    }
  })

  it('reports a start too long ago as a problem (it threw CONFIG_DURATION_INVALID)', () => {
    const file = JSON.stringify([{ server: '10', tokenEnv: 'TOKEN_A', start: '800000000d' }])
    expect(parseOperationsFile('ops.json', file, env, defaults, nowMs).problems).toEqual([
      'ops.json[0].start: "800000000d" is too long ago to be a time',
    ])
  })
})
