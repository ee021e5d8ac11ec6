import { parseArgs } from 'node:util'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { isLogThreshold, type LogThreshold } from '@wolkvox-chat-stream/observability'
import { faultKinds, parseFaultSpec, type Fault } from './faults.js'
import { DEFAULT_FIRST_SERVER, MAX_OPERATIONS, MAX_SERVER_CODE } from './operations.js'
import type { SimulatorOptions } from './simulator.js'

/** Every command-line flag, the variable it stands for, and what it means (for `--help` and the README). */
export const simulatorFlags = [
  ['port', 'HTTP_PORT', '8089', 'port to listen on (0 picks a free one)'],
  ['host', 'SIM_HOST', '127.0.0.1', 'address to bind'],
  ['seed', 'SIM_SEED', '1', 'same seed, same data'],
  ['chats-per-hour', 'SIM_CHATS_PER_HOUR', '60', 'about this many chats start per hour'],
  [
    'token',
    'SIM_TOKENS',
    'sim-token',
    'accepted token; repeat the flag, or comma-separate the variable',
  ],
  [
    'operations',
    'SIM_OPERATIONS',
    '',
    'serve this many operations (1..10000), routed by the wolkvox_server header, each with token sim-token-<server>; unset: one, any --token',
  ],
  ['first-server', 'SIM_FIRST_SERVER', '100001', 'server code of the first of --operations'],
  ['time-zone', 'SIM_TIMEZONE', 'America/Bogota', 'zone of date, date_ini, date_end'],
  ['history', 'SIM_HISTORY', '7d', 'how far back the data reaches'],
  [
    'selection',
    'SIM_SELECTION',
    'closing',
    'closing: chats closed in the window; message: messages sent in it',
  ],
  ['row-cap', 'SIM_ROW_CAP', '60000', 'records per response before silent truncation'],
  ['row-cap-unit', 'SIM_ROW_CAP_UNIT', 'message', 'what the cap counts: message or chat'],
  ['daily-quota', 'SIM_DAILY_QUOTA', '10000', 'calls per token per local day'],
  ['concurrent-limit', 'SIM_CONCURRENT_LIMIT', '2', 'simultaneous calls allowed per token'],
  ['latency', 'SIM_LATENCY', '0ms', 'server time added to every call'],
  ['visibility-lag', 'SIM_VISIBILITY_LAG', '2s', 'data becomes visible this long after it happens'],
  [
    'late-data',
    'SIM_LATE_DATA',
    '0s',
    'feeling (and some customer_id) empty until this long after a chat closed; 0s: off',
  ],
  ['late-share', 'SIM_LATE_SHARE', '1', 'share of chats whose data comes late, 0..1'],
  ['fault', 'SIM_FAULT', '', `a fault on every call: ${faultKinds.join(', ')} (or JSON)`],
  ['fault-rate', 'SIM_FAULT_RATE', '1', 'share of calls the --fault applies to, 0..1'],
  ['log-level', 'LOG_LEVEL', 'info', 'trace, debug (one line per call), info, warn, error, silent'],
] as const

/** The simulator's configuration: its options plus the log level. */
export interface SimulatorConfig extends SimulatorOptions {
  port: number
  logLevel: LogThreshold
}

/** The `--help` text. */
export function usage(): string {
  const rows = simulatorFlags.map(
    ([flag, variable, fallback, meaning]) =>
      `  --${flag.padEnd(17)} ${variable.padEnd(21)} ${meaning}${fallback === '' ? '' : ` (default ${fallback})`}`,
  )
  return `Usage: npm run simulator -- [options]\n\n  flag                variable              meaning\n${rows.join('\n')}\n`
}

/**
 * Reads the configuration from the command line and the environment (flags win), collecting
 * every problem into one error.
 *
 * @throws AppError `CONFIG_INVALID` listing each problem (tokens never appear in it).
 */
export function readSimulatorConfig(env: Env, argv: readonly string[]): Readonly<SimulatorConfig> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        simulatorFlags.map(([flag]) => [
          flag,
          { type: 'string' as const, multiple: flag === 'token' },
        ]),
      ),
    })
  } catch (error) {
    throw new AppError('CONFIG_INVALID', `${(error as Error).message}\n\n${usage()}`)
  }
  const merged: Record<string, string | undefined> = { ...env }
  for (const [flag, variable] of simulatorFlags) {
    const value = parsed.values[flag]
    if (Array.isArray(value)) merged[variable] = value.join(',')
    else if (typeof value === 'string') merged[variable] = value
  }
  return readConfig(merged, (r) => {
    const logLevel = r.string('LOG_LEVEL', 'info')
    if (!isLogThreshold(logLevel)) r.report('LOG_LEVEL', `"${logLevel}" is not a log level`)
    const share = (name: string): number => {
      const text = r.string(name, '1')
      const value = Number(text)
      if (!/^\d*\.?\d+$/.test(text) || value > 1) r.report(name, `"${text}" is not in 0..1`)
      return Number.isFinite(value) ? Math.min(1, value) : 1
    }
    const faultRate = share('SIM_FAULT_RATE')
    const lateShare = share('SIM_LATE_SHARE')
    let fault: Fault | undefined
    const faultText = r.string('SIM_FAULT')
    if (faultText !== undefined) {
      try {
        const spec = parseFaultSpec(
          faultText.startsWith('{') ? JSON.parse(faultText) : { kind: faultText },
        )
        const { count: _count, ...rest } = spec
        fault = rest
      } catch (error) {
        r.report(
          'SIM_FAULT',
          error instanceof AppError ? error.message : `"${faultText}" is not JSON`,
        )
      }
    }
    // Without SIM_OPERATIONS: one operation, as before; with it, server codes and tokens are derived.
    const operations =
      r.string('SIM_OPERATIONS') === undefined
        ? undefined
        : r.integer('SIM_OPERATIONS', 1, { min: 1, max: MAX_OPERATIONS })
    const firstServer = r.integer('SIM_FIRST_SERVER', DEFAULT_FIRST_SERVER, {
      min: 0,
      max: MAX_SERVER_CODE,
    })
    if (operations === undefined && r.string('SIM_FIRST_SERVER') !== undefined) {
      r.report('SIM_FIRST_SERVER', 'needs SIM_OPERATIONS (--operations)')
    }
    if (operations !== undefined && firstServer + operations - 1 > MAX_SERVER_CODE) {
      r.report('SIM_OPERATIONS', `the last server code would be over ${MAX_SERVER_CODE} (6 digits)`)
    }
    if (operations !== undefined && r.string('SIM_TOKENS') !== undefined) {
      r.report(
        'SIM_TOKENS',
        'not with SIM_OPERATIONS: each operation has the token sim-token-<server>',
      )
    }
    const config: SimulatorConfig = {
      port: r.integer('HTTP_PORT', 8089, { min: 0, max: 65_535 }),
      host: r.string('SIM_HOST', '127.0.0.1'),
      seed: r.integer('SIM_SEED', 1, { min: 0, max: 2 ** 52 }),
      chatsPerHour: r.integer('SIM_CHATS_PER_HOUR', 60, { min: 0, max: 1_000_000 }),
      tokens: r.list('SIM_TOKENS', ['sim-token']),
      timeZone: r.string('SIM_TIMEZONE', 'America/Bogota'),
      historyMs: r.durationMs('SIM_HISTORY', '7d'),
      selection: r.oneOf('SIM_SELECTION', ['closing', 'message'] as const, 'closing'),
      rowCap: r.integer('SIM_ROW_CAP', 60_000, { min: 1, max: 10_000_000 }),
      rowCapUnit: r.oneOf('SIM_ROW_CAP_UNIT', ['message', 'chat'] as const, 'message'),
      dailyQuota: r.integer('SIM_DAILY_QUOTA', 10_000, { min: 0, max: 1_000_000_000 }),
      concurrentLimit: r.integer('SIM_CONCURRENT_LIMIT', 2, { min: 1, max: 1_000 }),
      latencyMs: r.durationMs('SIM_LATENCY', '0ms'),
      visibilityLagMs: r.durationMs('SIM_VISIBILITY_LAG', '2s'),
      lateDataMs: r.durationMs('SIM_LATE_DATA', '0s'),
      lateShare,
      faultRate,
      logLevel: isLogThreshold(logLevel) ? logLevel : 'info',
      ...(fault === undefined ? {} : { fault }),
      ...(operations === undefined ? {} : { operations, firstServer }),
    }
    if (config.tokens?.length === 0) r.report('SIM_TOKENS', 'needs at least one token')
    return config
  })
}
