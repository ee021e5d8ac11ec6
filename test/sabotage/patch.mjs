// The one text patch of a sabotage run, shared by the Vite plugin (vitest.sabotage.config.ts) and
// the Node load hook of child processes (node-hooks.mjs). Plain JavaScript: the hook thread loads
// it before any TypeScript loader is registered.
import { appendFileSync } from 'node:fs'
import process from 'node:process'

/** The environment variable that carries the patch (JSON) to workers and child processes. */
export const PATCH_ENV = 'WCS_SABOTAGE_PATCH'

/**
 * The patch in the environment, or null when no sabotage is on.
 * @returns {{ name: string, file: string, find: string, replace: string, marker: string } | null}
 */
export function patchFromEnv() {
  const raw = process.env[PATCH_ENV]
  return raw ? JSON.parse(raw) : null
}

/**
 * `source` with the patch applied, and a line in the marker file saying so. A snippet found not
 * exactly once throws (and is marked `missing`): a refactor must not leave a sabotage that breaks
 * nothing and yet "fails" its test through a load error.
 * @param {string} source
 * @param {{ name: string, file: string, find: string, replace: string, marker: string }} patch
 * @param {string} via who applied it: 'vite' (test workers) or 'node' (child processes)
 * @returns {string}
 */
export function applyPatch(source, patch, via) {
  // Files checked out with CRLF endings still match the LF snippet.
  const text = source.replaceAll('\r\n', '\n')
  const at = text.indexOf(patch.find)
  const count = at < 0 ? 0 : text.split(patch.find).length - 1
  const mark = (status) =>
    appendFileSync(
      patch.marker,
      `${JSON.stringify({ name: patch.name, status, via, pid: process.pid, count })}\n`,
    )
  if (count !== 1) {
    mark('missing')
    throw new Error(
      `Sabotage ${patch.name}: its snippet occurs ${count} times in ${patch.file}, not once; ` +
        'update test/sabotage/sabotages.ts to the code as it is now',
    )
  }
  mark('applied')
  return text.slice(0, at) + patch.replace + text.slice(at + patch.find.length)
}
