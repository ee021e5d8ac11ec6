/*
 * The modules `npm run test:mutation` runs Stryker on, one Stryker run each, in this order.
 * To add one: a name (its report folder under test-artifacts/mutation/), the files to mutate and
 * the unit test files that may kill its mutants (only those run, so a module's score is earned by
 * its own tests). Globs are relative to the repository root; a `!` glob leaves a file out, with
 * the reason in `excluded`.
 */

/** The score under which `npm run test:mutation` fails. */
export const threshold = 80

/** @type {import('./modules.d.mts').MutationModule[]} */
export const modules = [
  // packages/events in three runs: each one's report (and score) is there as soon as it ends.
  {
    name: 'events-event-id',
    mutate: ['packages/events/src/event-id.ts'],
    testFiles: ['packages/events/src/**/*.test.ts'],
  },
  {
    name: 'events-builder',
    mutate: ['packages/events/src/chat-message-builder.ts'],
    testFiles: ['packages/events/src/**/*.test.ts'],
  },
  {
    name: 'events-codec',
    mutate: ['packages/events/src/codec.ts'],
    testFiles: ['packages/events/src/**/*.test.ts'],
  },
  {
    name: 'zoned-time',
    mutate: ['packages/zoned-time/src/index.ts'],
    testFiles: ['packages/zoned-time/src/**/*.test.ts'],
  },
  {
    name: 'token-lock',
    mutate: ['packages/token-lock/src/token-lock.ts'],
    testFiles: ['packages/token-lock/src/**/*.test.ts'],
    excluded:
      'src/scripts.ts is Lua text run by Redis: a mutant of it can only be killed by a real Redis, ' +
      'which the integration tests (test/integration/token-lock*.test.ts) run, not the unit tests',
  },
  {
    name: 'poller-window',
    mutate: ['services/poller/src/window.ts'],
    testFiles: ['services/poller/src/window*.test.ts'],
  },
  {
    name: 'poller-core',
    mutate: [
      'services/poller/src/core/**/*.ts',
      '!services/poller/src/core/**/*.test.ts',
      '!services/poller/src/core/**/*.test-support.ts',
    ],
    testFiles: ['services/poller/src/core/**/*.test.ts'],
  },
  {
    name: 'sentiment-aggregation',
    mutate: ['services/sentiment-aggregator/src/aggregation.ts'],
    testFiles: ['services/sentiment-aggregator/src/aggregation*.test.ts'],
  },
  // The trámite engine (packages/keyword-rules) in three runs: a report (and score) lands as each
  // one ends.
  {
    name: 'keyword-rules-parsing',
    mutate: [
      'packages/keyword-rules/src/rules.ts',
      'packages/keyword-rules/src/terms.ts',
      'packages/keyword-rules/src/evaluate.ts',
    ],
    testFiles: ['packages/keyword-rules/src/**/*.test.ts'],
  },
  {
    name: 'keyword-rules-text',
    mutate: [
      'packages/keyword-rules/src/fold.ts',
      'packages/keyword-rules/src/spelling.ts',
      'packages/keyword-rules/src/variants.ts',
      'packages/keyword-rules/src/matcher.ts',
    ],
    // The tests of these files and the classification's explained matches. Left out: the
    // evaluation sets (each test classifies about 900 messages with the shipped rules, and every
    // mutant of this code is reached by them; measured with them, the run took 127 minutes), the
    // rule file's parsing and the service's holder.
    testFiles: [
      'packages/keyword-rules/src/fold*.test.ts',
      'packages/keyword-rules/src/spelling*.test.ts',
      'packages/keyword-rules/src/variants*.test.ts',
      'packages/keyword-rules/src/matcher*.test.ts',
      'packages/keyword-rules/src/terms*.test.ts',
      'packages/keyword-rules/src/classify*.test.ts',
      // The package loaded afresh: a table that breaks loading, and the per-unit caches.
      'packages/keyword-rules/src/loads.test.ts',
    ],
  },
  {
    name: 'keyword-rules-classify',
    mutate: [
      'packages/keyword-rules/src/compile.ts',
      'packages/keyword-rules/src/classify.ts',
      'packages/keyword-rules/src/merge.ts',
      'packages/keyword-rules/src/types.ts',
    ],
    testFiles: ['packages/keyword-rules/src/**/*.test.ts'],
    excluded:
      'holder.ts and holder-routes.ts are the service side (file watching, reload over HTTP), not ' +
      'the classification engine; index.ts only re-exports',
  },
  {
    name: 'service-kit-planning',
    mutate: ['packages/service-kit/src/chunk.ts', 'packages/service-kit/src/state-ops.ts'],
    testFiles: [
      'packages/service-kit/src/chunk*.test.ts',
      'packages/service-kit/src/state-ops*.test.ts',
    ],
  },
]
