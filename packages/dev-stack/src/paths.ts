import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Where the dev stack keeps what it downloads and runs: the Kafka jars (kept between runs, so a
 * second start needs no network), broker data folders, logs and pid files. Outside the
 * repository on purpose. Override with `WOLKVOX_DEV_STACK_HOME`.
 */
export function devStackHome(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.WOLKVOX_DEV_STACK_HOME
  if (override !== undefined && override !== '') return override
  const cache =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ''
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache')
  return join(cache, 'wolkvox-chat-stream')
}

/** The folder of pid records (see process-registry.ts). */
export const runDir = (home: string): string => join(home, 'run')
