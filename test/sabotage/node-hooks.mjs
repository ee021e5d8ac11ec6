// The load hook of a sabotage run in plain Node processes: patches the one product file.
import { Buffer } from 'node:buffer'
import { fileURLToPath } from 'node:url'
import { applyPatch, patchFromEnv } from './patch.mjs'

const patch = patchFromEnv()

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context)
  if (patch === null || !url.startsWith('file:') || loaded.source == null) return loaded
  // A loader may add a query (a cache buster) to the file's URL.
  if (fileURLToPath(url.split('?')[0]) !== patch.file) return loaded
  const source =
    typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8')
  return { ...loaded, source: applyPatch(source, patch, 'node') }
}
