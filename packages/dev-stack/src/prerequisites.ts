import { spawnSync } from 'node:child_process'
import { AppError } from '@wolkvox-chat-stream/errors'

/** A program the dev stack runs. */
export type Prerequisite = 'java' | 'maven' | 'redis-server' | 'openssl' | 'keytool'

const HINTS: Record<Prerequisite, { what: string; install: string }> = {
  java: {
    what: 'Java 17 or newer (runs the Kafka broker)',
    install: 'sudo apt-get install openjdk-17-jre-headless   (macOS: brew install openjdk@17)',
  },
  maven: {
    what: 'Apache Maven (fetches the Kafka jars once; later starts need no network)',
    install: 'sudo apt-get install maven   (macOS: brew install maven)',
  },
  'redis-server': {
    what: 'redis-server (a private Redis for tests and the local stack)',
    install: 'sudo apt-get install redis-server   (macOS: brew install redis)',
  },
  openssl: {
    what: 'OpenSSL (makes the private CA and certificates of a secured cluster)',
    install: 'sudo apt-get install openssl   (macOS: brew install openssl@3)',
  },
  keytool: {
    what: "Java's keytool (writes a secured cluster's truststore; it comes with the JRE)",
    install: 'sudo apt-get install openjdk-17-jre-headless   (macOS: brew install openjdk@17)',
  },
}

/** The command that answers with status 0 when each program (other than Java) is installed. */
const PROBES: Record<Exclude<Prerequisite, 'java'>, [string, string[]]> = {
  maven: ['mvn', ['-v']],
  'redis-server': ['redis-server', ['--version']],
  openssl: ['openssl', ['version']],
  keytool: ['keytool', ['-help']],
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { env, encoding: 'utf8', timeout: 30_000 })
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` }
}

/** The major version of the `java` on PATH, or null when there is none. */
export function javaMajorVersion(env: NodeJS.ProcessEnv = process.env): number | null {
  const { ok, output } = run('java', ['-version'], env)
  if (!ok) return null
  // `openjdk version "17.0.15"`, `java version "1.8.0_392"`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output)
  if (!match) return null
  const major = Number(match[1])
  return major === 1 ? Number(match[2]) : major
}

/** Finds which of `needed` are missing or too old; empty when all is well. */
export function findMissingPrerequisites(
  needed: readonly Prerequisite[],
  env: NodeJS.ProcessEnv = process.env,
): { name: Prerequisite; found: string }[] {
  const missing: { name: Prerequisite; found: string }[] = []
  for (const name of needed) {
    if (name === 'java') {
      const major = javaMajorVersion(env)
      if (major === null) missing.push({ name, found: 'not found on PATH' })
      else if (major < 17) missing.push({ name, found: `found Java ${major}` })
    } else if (!run(...PROBES[name], env).ok) {
      missing.push({ name, found: 'not found on PATH' })
    }
  }
  return missing
}

/**
 * Checks that the programs the dev stack needs are installed.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING` naming every missing program and how to install it.
 */
export function assertPrerequisites(
  needed: readonly Prerequisite[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const missing = findMissingPrerequisites(needed, env)
  if (missing.length === 0) return
  const lines = missing.map(
    ({ name, found }) => `  - ${HINTS[name].what}: ${found}. Install: ${HINTS[name].install}`,
  )
  throw new AppError(
    'DEV_STACK_PREREQUISITE_MISSING',
    `The local Kafka and Redis need programs that are missing:\n${lines.join('\n')}`,
    { details: { missing: missing.map((m) => m.name) } },
  )
}
