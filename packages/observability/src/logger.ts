import { readConfig, type Env, type EnvReader } from '@wolkvox-chat-stream/config'
import { AppError, serializeError } from '@wolkvox-chat-stream/errors'

/** The levels a record can have, from the most to the least verbose. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

/** The level of one record. */
export type LogLevel = (typeof logLevels)[number]

/** The threshold of a logger: a {@link LogLevel}, or `silent` to write nothing. */
export type LogThreshold = LogLevel | 'silent'

/** Structured fields of a record. `err` is serialised with `serializeError`. */
export type LogFields = Readonly<Record<string, unknown>>

/** Where records go: anything with a synchronous `write` of one string. */
export interface LogStream {
  write(chunk: string): unknown
  /** True on a terminal (as `process.stderr.isTTY`): the `auto` format then writes human lines. */
  isTTY?: boolean
}

/**
 * How records are written: `json` (one JSON object a line, for machines), `pretty` (one readable
 * line, for a person at a terminal), or `auto`: `pretty` when the stream is a terminal, else `json`.
 */
export const logFormats = ['auto', 'json', 'pretty'] as const

/** One of {@link logFormats}. */
export type LogFormat = (typeof logFormats)[number]

/** Reads `LOG_FORMAT` (default `auto`) through a configuration reader, for a service's config. */
export function readLogFormat(r: EnvReader): LogFormat {
  return r.oneOf('LOG_FORMAT', logFormats, 'auto')
}

/**
 * `LOG_FORMAT` of `env` alone.
 * @throws AppError `CONFIG_INVALID` naming the variable and the allowed values.
 */
export function logFormatFromEnv(env: Env): LogFormat {
  return readConfig(env, (r) => ({ format: readLogFormat(r) })).format
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The component that logs (`collector`, `sentiment-consumer`); goes in every record. */
  name: string
  /** Records below this level are dropped. Default `info`. */
  level?: LogThreshold
  /** Default `process.stdout`. */
  stream?: LogStream
  /** Fields added to every record. */
  base?: LogFields
  /** Default: `LOG_FORMAT` of the environment, else `auto`. */
  format?: LogFormat
}

type LogMethod = (msg: string, fields?: LogFields) => void

/**
 * A structured logger: each call writes one line synchronously to its stream, either JSON
 * `{"time","level","name","msg",...fields}` or, for a person at a terminal, the readable form of
 * {@link formatHumanLine}.
 */
export interface Logger {
  readonly name: string
  readonly level: LogThreshold
  readonly trace: LogMethod
  readonly debug: LogMethod
  readonly info: LogMethod
  readonly warn: LogMethod
  readonly error: LogMethod
  readonly fatal: LogMethod
  /** Whether a record of `level` would be written. */
  isLevelEnabled(level: LogLevel): boolean
  /** A logger with the same name, level and stream whose records also carry `fields`. */
  child(fields: LogFields): Logger
}

const severity: Readonly<Record<LogThreshold, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
}

const reservedKeys = new Set(['time', 'level', 'name', 'msg'])

/** True when `value` is a level or `silent`; for validating a level read from the environment. */
export function isLogThreshold(value: unknown): value is LogThreshold {
  return typeof value === 'string' && Object.hasOwn(severity, value)
}

/**
 * Creates a {@link Logger}. Fields named `time`, `level`, `name` or `msg` are ignored so a record's
 * envelope is always trustworthy. Logging never throws: a record whose fields cannot be serialised
 * (a cycle) is written with its message and a note instead. The format is chosen once, here.
 *
 * @throws AppError `CONFIG_INVALID` when `level` is not a known level, or when `format` is not
 *   given and `LOG_FORMAT` is not one of {@link logFormats}.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info'
  if (!isLogThreshold(level)) {
    throw new AppError('CONFIG_INVALID', `Unknown log level "${String(level)}"`, {
      details: { level: String(level), allowed: [...logLevels, 'silent'] },
    })
  }
  const stream = options.stream ?? process.stdout
  const format = options.format ?? logFormatFromEnv(process.env)
  const human = format === 'pretty' || (format === 'auto' && stream.isTTY === true)
  return build(options.name, level, stream, options.base ?? {}, human)
}

function build(
  name: string,
  level: LogThreshold,
  stream: LogStream,
  base: LogFields,
  human: boolean,
): Logger {
  const threshold = severity[level]
  const method =
    (recordLevel: LogLevel): LogMethod =>
    (msg, fields) => {
      if (severity[recordLevel] < threshold) return
      const record = recordOf(recordLevel, name, msg, base, fields)
      stream.write(`${human ? formatHumanLine(record) : toJson(record)}\n`)
    }
  return {
    name,
    level,
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    isLevelEnabled: (recordLevel) => severity[recordLevel] >= threshold,
    child: (fields) => build(name, level, stream, { ...base, ...fields }, human),
  }
}

/** One record before it is written: the envelope, then the fields (`err` serialised). */
export interface LogRecord {
  time: string
  level: LogLevel
  name: string
  msg: string
  [field: string]: unknown
}

function recordOf(
  level: LogLevel,
  name: string,
  msg: string,
  base: LogFields,
  fields: LogFields | undefined,
): LogRecord {
  const record: LogRecord = { time: new Date().toISOString(), level, name, msg }
  for (const source of [base, fields ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      if (reservedKeys.has(key)) continue
      record[key] = key === 'err' ? serializeError(value) : value
    }
  }
  return record
}

function toJson(record: LogRecord): string {
  const { level, name, msg } = record
  try {
    return JSON.stringify(record, replacer)
  } catch (error) {
    return JSON.stringify({
      time: record.time,
      level,
      name,
      msg,
      logError: `fields could not be serialised: ${error instanceof Error ? error.message : String(error)}`,
    })
  }
}

// Errors outside `err` would otherwise print as {}; bigints would make JSON.stringify throw.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value)
  if (typeof value === 'bigint') return value.toString()
  return value
}

/** At most this many fields follow the message in a human line; the rest are counted. */
const HUMAN_MAX_FIELDS = 6
/** A field's value is cut to this many characters in a human line (an error's to twice as many). */
const HUMAN_MAX_VALUE = 80

/**
 * The readable form of a record, one line without its newline:
 * `WARN  14:03:07 poller: window failed  server=0010 err="KAFKA_UNAVAILABLE: Kafka is away"`:
 * the level, the local time, the logger's name, the message, then up to six fields as key=value
 * (values cut short, `+N more` for the others; `err` as its code and message, with its first
 * cause's message). Values print through `toJSON` as in the JSON form, so a secret stays
 * `[redacted]`; control characters (a newline, a terminal escape) are escaped, never written.
 */
export function formatHumanLine(record: LogRecord): string {
  const { time, level, name, msg, ...fields } = record
  const parts: string[] = []
  let skipped = 0
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    if (parts.length === HUMAN_MAX_FIELDS) {
      skipped += 1
      continue
    }
    const text =
      key === 'err'
        ? quoteIfNeeded(cut(errorText(value), 2 * HUMAN_MAX_VALUE))
        : typeof value === 'string'
          ? quoteIfNeeded(cut(value, HUMAN_MAX_VALUE))
          : escapeControl(cut(valueText(value), HUMAN_MAX_VALUE))
    parts.push(`${escapeControl(key)}=${text}`)
  }
  if (skipped > 0) parts.push(`+${skipped} more`)
  const head = `${level.toUpperCase().padEnd(5)} ${clockOf(time)} ${escapeControl(name)}: ${escapeControl(msg)}`
  return parts.length === 0 ? head : `${head}  ${parts.join(' ')}`
}

/** `HH:MM:SS` in the process's local time zone. */
function clockOf(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '--:--:--'
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':')
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  try {
    return JSON.stringify(value, replacer) ?? String(value)
  } catch {
    return '[unserialisable]'
  }
}

/** `CODE: message; cause: message` from a serialised error (see `serializeError`). */
function errorText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return valueText(value)
  const err = value as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown }
  const label =
    typeof err.code === 'string' || typeof err.code === 'number'
      ? String(err.code)
      : typeof err.name === 'string'
        ? err.name
        : undefined
  const message = typeof err.message === 'string' ? err.message : valueText(value)
  const cause =
    typeof err.cause === 'object' && err.cause !== null
      ? (err.cause as { message?: unknown }).message
      : undefined
  const head = label === undefined ? message : `${label}: ${message}`
  return typeof cause === 'string' && cause !== '' ? `${head}; cause: ${cause}` : head
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

// Plain words print bare; anything with a space, a quote, an `=` or a control character is quoted
// as a JSON string, which also escapes the control characters.
function quoteIfNeeded(text: string): string {
  return text !== '' && /^[\p{L}\p{N}_.:/@+,\-…[\]{}]+$/u.test(text) ? text : JSON.stringify(text)
}
