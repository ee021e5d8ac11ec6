/*
 * `npm run doctor [-- --json] [-- --call]`: the preflight, on the environment the services read.
 * Prints one line per check as it ends (or, with --json, one JSON document at the end) and exits
 * 0 when every check passed (or was not configured), 1 otherwise, 2 on a usage error.
 */
import { runDoctor } from './doctor.js'
import { parseFlags, USAGE } from './flags.js'
import { exitCodeOf, renderJson, renderLine, summarize } from './result.js'

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2))
  if (flags === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if ('problem' in flags) {
    process.stderr.write(`doctor: ${flags.problem}\n${USAGE}`)
    return 2
  }
  const results = await runDoctor({
    env: process.env,
    call: flags.call,
    timeoutMs: flags.timeoutMs,
    ...(flags.json ? {} : { onResult: (r) => void process.stdout.write(`${renderLine(r)}\n`) }),
  })
  if (flags.json) process.stdout.write(`${renderJson(results)}\n`)
  else process.stdout.write(`${summarize(results)}\n`)
  return exitCodeOf(results)
}

// Exits when done: a check abandoned at its time bound may still hold a socket.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`doctor: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
