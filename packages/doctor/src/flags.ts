/** The command line of `npm run doctor`. */

/** The usage text. */
export const USAGE = `usage: npm run doctor [-- --json] [-- --call] [-- --timeout <ms>]

Checks the configuration, Kafka, Redis, the schema registry, each Wolkvox operation's host, the
rules files and the HTTP token files, reading the same variables as the services.

  --json           print a JSON array of {check, status, ok, detail, fix} instead of lines
  --call           also make one real report call per operation (a one-minute window, through
                   the token lock, counted against the daily quota) to prove its token works
  --timeout <ms>   the bound of each check (default 5000)
`

/** What the command line asks for. */
export interface Flags {
  json: boolean
  call: boolean
  timeoutMs: number
}

/** The flags, or the usage problem. */
export function parseFlags(args: readonly string[]): Flags | { problem: string } | 'help' {
  const flags: Flags = { json: false, call: false, timeoutMs: 5_000 }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--json') flags.json = true
    else if (arg === '--call') flags.call = true
    else if (arg === '--help' || arg === '-h') return 'help'
    else if (arg === '--timeout') {
      const value = Number(args[++i])
      if (!Number.isInteger(value) || value < 100 || value > 120_000)
        return { problem: '--timeout takes milliseconds, 100 to 120000' }
      flags.timeoutMs = value
    } else return { problem: `unknown argument ${JSON.stringify(arg)}` }
  }
  return flags
}
