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
}

type LogMethod = (msg: string, fields?: LogFields) => void

/**
 * A structured JSON logger: each call writes one line
 * `{"time","level","name","msg",...fields}` synchronously to its stream.
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
 * (a cycle) is written with its message and a note instead.
 *
 * @throws AppError `CONFIG_INVALID` when `level` is not a known level.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info'
  if (!isLogThreshold(level)) {
    throw new AppError('CONFIG_INVALID', `Unknown log level "${String(level)}"`, {
      details: { level: String(level), allowed: [...logLevels, 'silent'] },
    })
  }
  return build(options.name, level, options.stream ?? process.stdout, options.base ?? {})
}

function build(name: string, level: LogThreshold, stream: LogStream, base: LogFields): Logger {
  const threshold = severity[level]
  const method =
    (recordLevel: LogLevel): LogMethod =>
    (msg, fields) => {
      if (severity[recordLevel] < threshold) return
      stream.write(`${render(recordLevel, name, msg, base, fields)}\n`)
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
    child: (fields) => build(name, level, stream, { ...base, ...fields }),
  }
}

function render(
  level: LogLevel,
  name: string,
  msg: string,
  base: LogFields,
  fields: LogFields | undefined,
): string {
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, name, msg }
  for (const source of [base, fields ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      if (reservedKeys.has(key)) continue
      record[key] = key === 'err' ? serializeError(value) : value
    }
  }
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
