import { defineConfig } from 'vitest/config'
import { modules } from './test/mutation/modules.mjs'
import rootConfig from './vitest.config.js'

/**
 * The test files of the module being mutated (MUTATION_MODULE), else every unit test. They are
 * chosen here, not with Stryker's `testFiles`: with that option Stryker 9.6.1 activates a static
 * (module-level) mutant only after its module is loaded, so every such mutant survived
 * (stryker-js issue 6144). Chosen here, the dry run only finds these files, and a static mutant
 * runs them in a fresh environment with the mutant active from the start.
 */
const selected = modules.find((entry) => entry.name === process.env.MUTATION_MODULE)

/**
 * The unit tests alone, for mutation runs (`npm run test:mutation`, stryker.config.mjs). The root
 * config's projects would also load the integration project, whose global setup starts Kafka and
 * Redis; Stryker's runner takes a config's projects as they are, so the unit project is repeated
 * here as the only one. Its plugins (workspace packages from their sources) are the root's own.
 */
export default defineConfig({
  plugins: rootConfig.plugins,
  test: {
    include: selected?.testFiles ?? ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
    environment: 'node',
    // The unit project's 30 s, four times: instrumented code on a shared two-core machine.
    testTimeout: 120_000,
    // One fast-check seed for every run: a mutant is then killed, or not, the same way each time.
    env: { FUZZ_SEED: process.env.FUZZ_SEED ?? '20261205' },
    setupFiles: ['test/support/fast-check-seed.ts', 'test/mutation/setup.ts'],
  },
})
