/*
 * `npm run chaos -- [--seed N] [--minutes M] [--nodes 1|3] [--out DIR]`: one chaos run (see
 * chaos.test.ts). Without --seed a random seed is drawn and printed first, so any run can be
 * replayed. Exits 0 when every invariant held, 1 on a violation, 2 on bad arguments.
 */
import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const usage = `usage: npm run chaos -- [--seed N] [--minutes M] [--nodes 1|3] [--out DIR]
  --seed N      the schedule and the simulator's data (default: a random seed, printed)
  --minutes M   how long faults are injected, 0.5 to 120 (default 3); setting up, settling and
                checking add about 2 to 3 minutes
  --nodes 1|3   Kafka nodes (default 3: replication factor 3, min.insync.replicas 2)
  --out DIR     where the verdict (chaos-<seed>.txt and .json) and the service logs go
                (default chaos-results)`

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

let values: { seed?: string; minutes?: string; nodes?: string; out?: string; help?: boolean }
try {
  ;({ values } = parseArgs({
    options: {
      seed: { type: 'string' },
      minutes: { type: 'string' },
      nodes: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }))
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}
if (values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
const seed = values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(values.seed)
if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32)
  fail(`--seed must be an integer from 0 to 4294967295, not ${values.seed}`)
const minutes = Number(values.minutes ?? '3')
if (!Number.isFinite(minutes) || minutes < 0.5 || minutes > 120)
  fail(`--minutes must be a number from 0.5 to 120, not ${values.minutes}`)
const nodes = Number(values.nodes ?? '3')
if (nodes !== 1 && nodes !== 3) fail(`--nodes must be 1 or 3, not ${values.nodes}`)

process.stderr.write(
  `chaos: seed ${seed}, ${minutes} minute(s) of faults, ${nodes} Kafka node(s)${values.seed === undefined ? ' (random seed: replay it with --seed)' : ''}\n`,
)
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url))
const child = spawn(process.execPath, [vitest, 'run', '--project', 'chaos'], {
  cwd: fileURLToPath(new URL('../../', import.meta.url)),
  env: {
    ...process.env,
    CHAOS_SEED: String(seed),
    CHAOS_MINUTES: String(minutes),
    CHAOS_NODES: String(nodes),
    ...(values.out === undefined ? {} : { CHAOS_OUT: values.out }),
  },
  stdio: 'inherit',
})
const forward = (signal: NodeJS.Signals): void => void child.kill(signal)
process.on('SIGINT', forward)
process.on('SIGTERM', forward)
child.once('close', (code, signal) => {
  process.stderr.write(`chaos: seed ${seed}: ${code === 0 ? 'PASS' : 'FAIL'}\n`)
  process.exit(code ?? (signal ? 1 : 1))
})
