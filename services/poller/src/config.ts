import { readFileSync } from 'node:fs'
import { readConfig, Secret, type Env, type EnvReader } from '@wolkvox-chat-stream/config'
import { readKafkaSettings, type KafkaSettings } from '@wolkvox-chat-stream/kafka'
import { isValidZone } from './local-time.js'
import { parseTimeInput } from './time-input.js'

/** One Wolkvox operation the poller reads. */
export interface OperationConfig {
  /** The server code, also the operation's id (`0010`). */
  server: string
  token: Secret
  timeZone: string
  /** Where a new operation starts (epoch ms), when it has no watermark yet. */
  startMs: number
  /** Override of `https://wv{server}.wolkvox.com` (plain http only to loopback). */
  baseUrl?: string
}

/** The poller's settings (ARCHITECTURE.md, Configuration). */
export interface PollerConfig {
  operations: OperationConfig[]
  report: 'chat_2'
  intervalMs: number
  lookbackMs: number
  settleLagMs: number
  maxWindowMs: number
  sweepLookbackMs: number
  dedupHorizonMs: number
  maxResponseBytes: number
  rowCap: number
  lockTtlMs: number
  lockWaitMs: number
  redisUrl: string
  kafka: KafkaSettings
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
  httpPort: number
}

const SERVER = /^[0-9]{1,6}$/

function readToken(r: EnvReader, env: Env): Secret | undefined {
  const inline = r.secret('WOLKVOX_TOKEN')
  const file = r.string('WOLKVOX_TOKEN_FILE')
  if (inline && file)
    r.report('WOLKVOX_TOKEN_FILE', 'set only one of WOLKVOX_TOKEN and WOLKVOX_TOKEN_FILE')
  if (inline) return inline
  if (file) {
    try {
      const value = readFileSync(file, 'utf8').trim()
      if (value === '') r.report('WOLKVOX_TOKEN_FILE', `${file} is empty`)
      else return new Secret(value)
    } catch {
      r.report('WOLKVOX_TOKEN_FILE', `${file} cannot be read`)
    }
  }
  void env
  return undefined
}

/**
 * Reads the poller's configuration from the environment, once, reporting every problem together.
 * @throws AppError `CONFIG_INVALID`
 */
export function readPollerConfig(
  env: Env = process.env,
  nowMs: number = Date.now(),
): Readonly<PollerConfig> {
  return readConfig(env, (r) => {
    const timeZone = r.string('WOLKVOX_TIMEZONE', 'America/Bogota')
    if (!isValidZone(timeZone))
      r.report('WOLKVOX_TIMEZONE', `"${timeZone}" is not an IANA time zone such as America/Bogota`)
    const lookbackMs = r.durationMs('POLL_LOOKBACK', '10m')
    const startText = r.string('POLL_START', '1h')
    const start = isValidZone(timeZone) ? parseTimeInput(startText, timeZone, nowMs) : nowMs
    if (typeof start === 'string') r.report('POLL_START', start)

    const server = r.required(
      'WOLKVOX_SERVER',
      'is required: the operation server code, such as 0010',
    )
    if (server !== '' && !SERVER.test(server))
      r.report('WOLKVOX_SERVER', 'must be 1 to 6 digits, such as 0010')
    const token = readToken(r, env)
    if (!token && !r.problems.some((p) => p.variable === 'WOLKVOX_TOKEN_FILE')) {
      r.report('WOLKVOX_TOKEN', 'is required (or WOLKVOX_TOKEN_FILE naming a file that holds it)')
    }
    const baseUrl = r.string('WOLKVOX_BASE_URL')
    const operations: OperationConfig[] =
      token && server !== ''
        ? [
            {
              server,
              token,
              timeZone,
              startMs: typeof start === 'number' ? start : nowMs,
              ...(baseUrl ? { baseUrl } : {}),
            },
          ]
        : []

    const maxWindowMs = r.durationMs('POLL_MAX_WINDOW', '6h')
    // A DST widening adds up to two hours to a request, which must stay within 31 days.
    if (maxWindowMs > 30 * 86_400_000)
      r.report('POLL_MAX_WINDOW', 'must be at most 30d (the upstream allows 31 days per call)')
    const sweepLookbackMs = r.durationMs('POLL_SWEEP_LOOKBACK', '25h')
    const dedupHorizonMs = r.durationMs('POLL_DEDUP_HORIZON', '3d')
    if (dedupHorizonMs <= Math.max(lookbackMs, sweepLookbackMs)) {
      r.report(
        'POLL_DEDUP_HORIZON',
        'must be longer than POLL_LOOKBACK and POLL_SWEEP_LOOKBACK, or re-polls publish again',
      )
    }
    return {
      operations,
      report: 'chat_2' as const,
      intervalMs: r.durationMs('POLL_INTERVAL', '5m'),
      lookbackMs,
      settleLagMs: r.durationMs('POLL_SETTLE_LAG', '2m'),
      maxWindowMs,
      sweepLookbackMs,
      dedupHorizonMs,
      maxResponseBytes: r.integer('POLL_MAX_RESPONSE_BYTES', 64 * 1024 * 1024, { min: 1024 }),
      rowCap: r.integer('POLL_ROW_CAP', 60_000, { min: 1 }),
      // One upstream call may take 60 s of server time; each call must fit in the lease it starts in.
      lockTtlMs: r.durationMs('POLL_LOCK_TTL', '90s'),
      lockWaitMs: r.durationMs('POLL_LOCK_WAIT', '2m'),
      redisUrl: r.string('REDIS_URL', 'redis://127.0.0.1:6379'),
      kafka: readKafkaSettings(r, 'wolkvox-poller'),
      logLevel: r.oneOf(
        'LOG_LEVEL',
        ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const,
        'info',
      ),
      httpPort: r.integer('HTTP_PORT', 8081, { min: 0, max: 65_535 }),
    }
  })
}
