/*
 * The doctor's results and how they are shown: pure functions, no I/O. A check's outcome is one
 * of four: passed, failed, a warning (it could not be verified: not a pass), or skipped (not
 * configured, or not checkable because a check it depends on failed).
 */
import { isAppError } from '@wolkvox-chat-stream/errors'
import type { Redactor } from '@wolkvox-chat-stream/wolkvox-client'

/** What a check concluded. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

/** One line of the doctor's report. */
export interface CheckResult {
  /** The check's name, such as `kafka topics` or `wolkvox 0010`. */
  check: string
  status: CheckStatus
  /** True only for `pass` and `skip`: a warning is not a pass. */
  ok: boolean
  /** What was found (a pass: what was verified; a failure: what is wrong). Never a secret. */
  detail: string
  /** What to do about it; empty for a pass or a skip. */
  fix: string
}

const result = (check: string, status: CheckStatus, detail: string, fix = ''): CheckResult => ({
  check,
  status,
  ok: status === 'pass' || status === 'skip',
  detail,
  fix,
})

/** A passed check; `detail` says what was verified. */
export const passed = (check: string, detail = ''): CheckResult => result(check, 'pass', detail)
/** A failed check: what is wrong and the fix. */
export const failed = (check: string, detail: string, fix: string): CheckResult =>
  result(check, 'fail', detail, fix)
/** A check that could not be verified (not a pass): why, and how to make it checkable. */
export const warned = (check: string, detail: string, fix: string): CheckResult =>
  result(check, 'warn', detail, fix)
/** A check not run: `not configured`, or why it could not run. */
export const skipped = (check: string, detail = 'not configured'): CheckResult =>
  result(check, 'skip', detail)

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' }

/**
 * One line: `✓ name` (with what was verified in parentheses), `✗ name: what is wrong — the fix`,
 * `! name: why it could not be verified — the fix`, or `- name: not configured`. A detail of
 * several lines is joined into one.
 */
export function renderLine(r: CheckResult): string {
  const detail = oneLine(r.detail)
  switch (r.status) {
    case 'pass':
      return detail === '' ? `✓ ${r.check}` : `✓ ${r.check} (${detail})`
    case 'skip':
      return `- ${r.check}: ${detail}`
    default:
      return `${MARK[r.status]} ${r.check}: ${detail}${r.fix === '' ? '' : ` — ${oneLine(r.fix)}`}`
  }
}

/** The report as text, one line a check, in the order run. */
export function renderText(results: readonly CheckResult[]): string {
  return results.map(renderLine).join('\n')
}

/** The report as a JSON document: an array of `{check, status, ok, detail, fix}`. */
export function renderJson(results: readonly CheckResult[]): string {
  return JSON.stringify(
    results.map(({ check, status, ok, detail, fix }) => ({ check, status, ok, detail, fix })),
    null,
    2,
  )
}

/** 0 when every check passed or was skipped, else 1 (a failure or a warning). */
export function exitCodeOf(results: readonly CheckResult[]): 0 | 1 {
  return results.every((r) => r.ok) ? 0 : 1
}

/** Counts per status, for the summary line. */
export function summarize(results: readonly CheckResult[]): string {
  const count = (status: CheckStatus): number => results.filter((r) => r.status === status).length
  const parts = [
    `${count('pass')} passed`,
    `${count('fail')} failed`,
    ...(count('warn') > 0 ? [`${count('warn')} not verified`] : []),
    `${count('skip')} skipped`,
  ]
  return `${exitCodeOf(results) === 0 ? 'ready' : 'not ready'}: ${parts.join(', ')}`
}

/** Multi-line text (a `CONFIG_INVALID` list) as one line: lines joined by `; `, list dashes dropped. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/u)
    .map((line) => line.trim().replace(/^- /u, ''))
    .filter((line) => line !== '')
    .join('; ')
    .replace(/:;/gu, ':')
}

/** An error as `CODE: message` (an AppError), or its message. */
export function describeError(error: unknown): string {
  if (isAppError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

/** `r` with its detail and fix passed through `redact`. */
export function redactResult(r: CheckResult, redact: Redactor): CheckResult {
  return { ...r, detail: redact(r.detail), fix: redact(r.fix) }
}

/**
 * Runs `run`, bounded by `timeoutMs`: a check that does not end in time is a failure saying so
 * (its clients are closed by its own `finally` when it ends; the CLI exits regardless). A check
 * that throws is a failure with the error as its detail.
 */
export async function bounded(
  check: string,
  timeoutMs: number,
  run: () => Promise<CheckResult | CheckResult[]>,
  onTimeout: { detail?: string; fix: string },
): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(
      () =>
        resolve([
          failed(check, onTimeout.detail ?? `no answer within ${timeoutMs} ms`, onTimeout.fix),
        ]),
      timeoutMs,
    )
    timer.unref()
  })
  const work = run().then(
    (r) => (Array.isArray(r) ? r : [r]),
    (error: unknown) => [failed(check, describeError(error), onTimeout.fix)],
  )
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
