// @ts-check
/*
 * StrykerJS on the unit tests (vitest.mutation.config.ts), one module at a time: MUTATION_MODULE
 * names an entry of test/mutation/modules.mjs. Run them all with `npm run test:mutation`, or one
 * with `MUTATION_MODULE=events npx stryker run`.
 */
import process from 'node:process'
import { modules } from './test/mutation/modules.mjs'

const name = process.env.MUTATION_MODULE
const module = modules.find((entry) => entry.name === name)
if (!module) {
  throw new Error(
    `MUTATION_MODULE must name a module of test/mutation/modules.mjs (${modules.map((entry) => entry.name).join(', ')}); got ${String(name)}`,
  )
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  // Vitest strips types without checking them, so the sandbox's files need no `// @ts-nocheck`
  // (which would also break the test comparing generated files with their generator's output).
  disableTypeChecks: false,
  // Each mutant runs only the tests that executed its code in the first (dry) run.
  coverageAnalysis: 'perTest',
  mutate: module.mutate,
  // No `testFiles`: vitest.mutation.config.ts runs only the module's tests (see there why).
  // Two cores shared with other work: STRYKER_CONCURRENCY raises it on a free machine.
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 1),
  // A loaded machine: a slow test is not an infinite loop.
  timeoutMS: 20_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 15,
  // The sandbox is a copy of the repository (node_modules linked), never the working tree itself:
  // other work runs tests on the same files meanwhile. Heavy or generated folders stay out.
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: [
    'bench-results',
    'chaos-results',
    'test-artifacts',
    'coverage',
    'dist',
    '.turbo',
    '.dev-stack',
    'target',
  ],
  // Only mutants whose code or covering tests changed since the module's last run are tested
  // again; MUTATION_FORCE=1 tests them all.
  incremental: true,
  incrementalFile: `test-artifacts/mutation/${module.name}/incremental.json`,
  force: process.env.MUTATION_FORCE === '1',
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `test-artifacts/mutation/${module.name}/mutation.html` },
  jsonReporter: { fileName: `test-artifacts/mutation/${module.name}/mutation.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
}
