import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin, type TestProjectInlineConfiguration } from 'vitest/config'
import { applyPatch, PATCH_ENV, type Patch } from './test/sabotage/patch.mjs'
import { sabotageNamed } from './test/sabotage/sabotages.js'
import rootConfig from './vitest.config.js'

/**
 * The integration and fault projects (as `sabotage` and `sabotage-fault`) with one sabotage on (`WCS_SABOTAGE=<name>`, test/sabotage/sabotages.ts):
 * one product file is patched in memory, by a Vite plugin for the test workers and by a Node load
 * hook for the processes the tests start. `npm run test:sabotage` (test/sabotage/run.ts) runs each
 * sabotage's guarding test here and passes only when that test fails. Without WCS_SABOTAGE, nothing
 * is patched: the same run as the integration project, a control.
 */
const root = fileURLToPath(new URL('./', import.meta.url))
const name = process.env.WCS_SABOTAGE

let patch: Patch | null = null
if (name) {
  const sabotage = sabotageNamed(name)
  patch = {
    name,
    file: join(root, sabotage.file),
    find: sabotage.find,
    replace: sabotage.replace,
    marker: process.env.WCS_SABOTAGE_MARKER ?? join(tmpdir(), `wcs-sabotage-${process.pid}.jsonl`),
  }
  // Inherited by the test workers and, through them, by every process a test starts.
  process.env[PATCH_ENV] = JSON.stringify(patch)
  const hook = new URL('./test/sabotage/node-register.mjs', import.meta.url).href
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim()
}

/** Patches the sabotaged file as Vite reads it, before TypeScript is compiled away. */
function sabotagePlugin(active: Patch): Plugin {
  return {
    name: 'wolkvox-sabotage',
    enforce: 'pre',
    transform(code, id) {
      if (id.split('?')[0] !== active.file) return null
      return { code: applyPatch(code, active, 'vite'), map: null }
    },
  }
}

/** The root config's project called `name`. */
function rootProject(name: string): TestProjectInlineConfiguration & {
  test: NonNullable<TestProjectInlineConfiguration['test']>
} {
  const found = rootConfig.test?.projects?.find(
    (p): p is TestProjectInlineConfiguration =>
      typeof p === 'object' && 'test' in p && p.test?.name === name,
  )
  if (!found?.test) throw new Error(`vitest.config.ts has no ${name} project`)
  return { ...found, test: found.test }
}
const integration = rootProject('integration')
const fault = rootProject('fault')

export default defineConfig({
  plugins: [...(rootConfig.plugins ?? []), ...(patch ? [sabotagePlugin(patch)] : [])],
  test: {
    // A patched module must never reach a cache that a normal run could read.
    experimental: { fsModuleCache: false },
    projects: [
      {
        ...integration,
        test: {
          ...integration.test,
          name: 'sabotage',
          // The runner starts one broker and one redis-server for all its runs and passes them on;
          // alone, the run starts its own, as the integration project does.
          ...(process.env.WCS_SABOTAGE_KAFKA
            ? { globalSetup: ['test/sabotage/global-setup.ts'] }
            : {}),
        },
      },
      // A fault test starts and breaks services of its own: nothing shared to pass on.
      { ...fault, test: { ...fault.test, name: 'sabotage-fault' } },
    ],
  },
})
