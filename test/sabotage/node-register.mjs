// Imported through NODE_OPTIONS (`--import`) by every process of a sabotage run, so that child
// processes the tests start (lock holders, pollers, consumers) run the patched copy too. Registered
// before tsx's own hooks, this hook sees each file's TypeScript source before tsx compiles it.
import { register } from 'node:module'

register('./node-hooks.mjs', import.meta.url)
