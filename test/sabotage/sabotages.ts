/*
 * The sabotage checks: for each critical promise, a patch that breaks it on purpose and the one
 * test that must then fail. The patch is applied in memory only, for one test run (see
 * vitest.sabotage.config.ts and node-hooks.mjs); the product code never carries a test switch.
 *
 * Each `find` is an exact snippet of the product file (Lua inside a script string included), found
 * exactly once: when a refactor moves it, the patch fails loudly instead of breaking nothing.
 */

export interface Sabotage {
  /** The value of WCS_SABOTAGE that turns this sabotage on. */
  name: string
  /** The promise broken: its number in QUALITY.md, then what of it breaks. */
  promise: string
  /** The product file patched, relative to the repository root. */
  file: string
  /** The exact snippet replaced (found exactly once in `file`). */
  find: string
  /** What replaces it: the product with the guard gone. */
  replace: string
  /** The test file that guards the promise, relative to the repository root. */
  testFile: string
  /** The exact title of the one test (within `testFile`) that must fail under the sabotage. */
  test: string
  /**
   * A pattern the failure must match: the test fails for the reason the sabotage causes, not for
   * an unrelated one (a broker that did not answer, a timeout) that would make the check vacuous.
   */
  failure: RegExp
  /**
   * The test's product code runs in a process the test starts (the paused lock holder): the check
   * then also requires the patch applied there, by the Node load hook.
   */
  inChild?: boolean
  /**
   * The vitest project of `testFile`: 'integration' (the default: the broker and redis-server the
   * runner shares) or 'fault' (the file starts and breaks services of its own).
   */
  project?: 'integration' | 'fault'
}

export const sabotages: readonly Sabotage[] = [
  {
    name: 'lock-fenced-set',
    promise: '#3 one call per token: only the current holder writes state',
    file: 'packages/token-lock/src/scripts.ts',
    // Both checks of the fenced write: the lease still the caller's, and no newer fence written.
    find: [
      `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 'lease_lost'} end`,
      `local stored = redis.call('HGET', KEYS[2], 'fence')`,
      `if stored and tonumber(stored) > tonumber(ARGV[2]) then return {0, 'stale_fence', stored} end`,
    ].join('\n'),
    replace: `-- sabotaged: any caller writes`,
    testFile: 'test/integration/token-lock.test.ts',
    test: 'aborts a holder paused past its lease and rejects its fenced write',
    inChild: true,
    // The paused holder's write goes through (in its own process: patched by the Node hook).
    failure: /expected \{ ok: true \} to match object \{ ok: false, reason: 'lease_lost' \}/,
  },
  {
    name: 'lock-acquire-nx',
    promise: '#3 one call per token: one lease at a time',
    file: 'packages/token-lock/src/scripts.ts',
    find: `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then`,
    replace: `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) then`,
    testFile: 'test/integration/token-lock.test.ts',
    test: 'grants one holder at a time, with fences that only grow',
    // A second lease granted while the first is held.
    failure: /expected \{ fence: \d+.* to be null/,
  },
  {
    name: 'poller-published-set',
    promise: '#2 nothing counted twice: no re-publication of what was published',
    file: 'services/poller/src/core/poll-range.ts',
    find: `const events = built.events.filter((e) => due.has(e.eventId))`,
    replace: `const events = built.events`,
    testFile: 'test/integration/poller-revisions.test.ts',
    test: 'publishes changed messages again with a new revision, same key and event_id, and unchanged ones never',
    // The unchanged re-read publishes everything again instead of nothing.
    failure: /to match object \{ published: \+0/,
  },
  {
    name: 'kit-offset-check',
    promise: '#2 nothing counted twice: a replay at or below the applied offset changes nothing',
    file: 'packages/service-kit/src/apply-script.ts',
    find: [
      `  if group.last <= stored then`,
      `    old = group.n`,
      `  elseif group.first <= stored then`,
      `    old = -1`,
      `  else`,
    ].join('\n'),
    // The branches stay, so the event_id check below still runs: only the offset is ignored.
    replace: [
      `  if false then`,
      `    old = group.n`,
      `  elseif false then`,
      `    old = -1`,
      `  else`,
    ].join('\n'),
    // service-kit-state.test.ts's replay test passes under this sabotage (its event_ids are still
    // known): the offset check needed a test of its own, on events the id set cannot tell apart.
    testFile: 'test/integration/service-kit-replay-offset.test.ts',
    test: 'skips events without an event_id at or below the stored offset, and a group across it is a conflict',
    // The replayed offsets 1 and 2 applied again: nothing skipped.
    failure: /expected \{ status: 'OK', skipped: \[\]/,
  },
  {
    name: 'kit-event-id-check',
    promise: '#2 nothing counted twice: an event_id already applied is skipped at a new offset',
    file: 'packages/service-kit/src/apply-script.ts',
    find: `  if token == '' then return present[id] and 'old' or 'new' end`,
    replace: `  if token == '' then return 'new' end`,
    testFile: 'test/integration/service-kit-state.test.ts',
    test: 'skips events at or below the stored offset and event_ids already applied',
    // Event 'a' again at the new offset 2 is applied: only offset 1 skipped.
    failure: /expected \{ status: 'OK', skipped: \[ \+0 \]/,
  },
  {
    name: 'lock-compare-and-set',
    promise: '#1 nothing lost: a watermark write expecting a value it no longer holds is refused',
    file: 'packages/token-lock/src/scripts.ts',
    find: `  if current ~= ARGV[4] then return {0, 'conflict', current or ''} end`,
    replace: `  -- sabotaged: the expected value is not compared`,
    testFile: 'test/integration/token-lock.test.ts',
    test: 'refuses a compare-and-set whose expected value is not the current one',
    // The write went through: the test's compare-and-set assertion fails (vitest elides the value).
    failure: /expected \{ status: 'done'.* to match object \{ status: 'done'/,
  },
  {
    name: 'event-id-random',
    promise: '#2 nothing counted twice: the same upstream message always has the same event_id',
    file: 'packages/events/src/event-id.ts',
    find: `return hash('sha256', text, 'hex').slice(0, 32)`,
    replace: `return hash('sha256', text + String(Math.random()), 'hex').slice(0, 32)`,
    testFile: 'test/integration/poller-revisions.test.ts',
    test: 'publishes changed messages again with a new revision, same key and event_id, and unchanged ones never',
    // Every message of the unchanged re-read has a new id, so it is published again.
    failure: /to match object \{ published: \+0/,
  },
  {
    name: 'poller-record-before-ack',
    promise: '#1 nothing lost: a chunk is recorded as published only after Kafka acknowledged it',
    file: 'services/poller/src/core/poll-range.ts',
    find: `      sending = deps.sink.publish(events, built.deadLetters).then(() => {`,
    // Recorded before it is sent: a crash between the two leaves records never written but known
    // as published, and the restart skips them instead of publishing them again.
    replace: [
      `      await deps.published.add(events)`,
      `      sending = deps.sink.publish(events, built.deadLetters).then(() => {`,
    ].join('\n'),
    testFile: 'test/fault/poller-process.test.ts',
    test: 'SIGKILL after part of a window is published: the restart re-polls it, and nothing is counted twice',
    inChild: true,
    project: 'fault',
    // The restart published nothing twice: every record the killed run sent was already known.
    failure: /expected 0 to be greater than 0/,
  },
]

/** The sabotage called `name`, or a clear error listing the known ones. */
export function sabotageNamed(name: string): Sabotage {
  const found = sabotages.find((s) => s.name === name)
  if (found) return found
  throw new Error(
    `WCS_SABOTAGE=${name}: no such sabotage (known: ${sabotages.map((s) => s.name).join(', ')})`,
  )
}
