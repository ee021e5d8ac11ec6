import { createHash } from 'node:crypto'

/** How a recorded call ended. */
export type CallOutcome = 'in-flight' | 'completed' | 'aborted'

/** One call to reports_manager.php as the server saw it. Times are epoch ms with sub-ms precision. */
export interface SimCall {
  id: number
  /** {@link tokenFingerprint} of the `wolkvox-token` header, or null without one. Never the token. */
  token: string | null
  /**
   * The `wolkvox_server` header as sent (the operation's server code), null without one. Always
   * set by the simulator's log; optional so that records made by hand need not name it.
   */
  server?: string | null
  api: string | null
  dateIni: string | null
  dateEnd: string | null
  /** When the request arrived and when its response finished or its connection closed. */
  startedAtMs: number
  endedAtMs: number | null
  /** The status written, null when nothing was (no answer). */
  status: number | null
  outcome: CallOutcome
  /** The fault applied, if any. */
  fault: string | null
  /** Chats and messages in the body, and its size, for a 200. */
  chats: number
  messages: number
  bytes: number
  /**
   * Messages of the body served before their late values were filled (`feeling` or `customer_id`
   * still empty; see the simulator's `lateDataMs`): a later read gives them other values.
   */
  lateMessages: number
}

/** Two calls on one token that were in flight at the same time. */
export interface Overlap {
  token: string
  first: SimCall
  second: SimCall
}

/** A short, stable, one-way name for a token: `sha256:` and 12 hex digits. */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`
}

/** The current time in epoch ms with sub-millisecond precision. */
export const preciseNowMs = (): number => performance.timeOrigin + performance.now()

/**
 * Every pair of calls on the same token whose server-side spans intersect. A call still in flight
 * overlaps everything after it. Touching ends (one ends as the other starts) do not overlap.
 */
export function findOverlaps(calls: readonly SimCall[]): Overlap[] {
  const byToken = new Map<string, SimCall[]>()
  for (const call of calls) {
    if (call.token === null) continue
    byToken.set(call.token, [...(byToken.get(call.token) ?? []), call])
  }
  const overlaps: Overlap[] = []
  for (const [token, list] of byToken) {
    const sorted = [...list].sort((a, b) => a.startedAtMs - b.startedAtMs)
    for (const [i, first] of sorted.entries()) {
      const end = first.endedAtMs ?? Infinity
      for (const second of sorted.slice(i + 1)) {
        if (second.startedAtMs >= end) break
        overlaps.push({ token, first, second })
      }
    }
  }
  return overlaps
}

/** Keeps the most recent calls, up to a bound. */
export interface CallLog {
  start(
    call: Omit<
      SimCall,
      | 'id'
      | 'endedAtMs'
      | 'outcome'
      | 'status'
      | 'fault'
      | 'chats'
      | 'messages'
      | 'bytes'
      | 'lateMessages'
    >,
  ): SimCall
  list(): SimCall[]
  clear(): void
}

/** A {@link CallLog} holding at most `limit` calls (oldest dropped first). */
export function createCallLog(limit = 100_000): CallLog {
  let calls: SimCall[] = []
  let nextId = 1
  return {
    start(fields) {
      const call: SimCall = {
        id: nextId++,
        ...fields,
        server: fields.server ?? null,
        endedAtMs: null,
        outcome: 'in-flight',
        status: null,
        fault: null,
        chats: 0,
        messages: 0,
        bytes: 0,
        lateMessages: 0,
      }
      calls.push(call)
      if (calls.length > limit) calls = calls.slice(calls.length - limit)
      return call
    },
    list: () => calls.map((call) => ({ ...call })),
    clear: () => {
      calls = []
    },
  }
}
