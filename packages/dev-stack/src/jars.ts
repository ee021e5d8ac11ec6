import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '@wolkvox-chat-stream/errors'
import { assertPrerequisites } from './prerequisites.js'

/** The broker version used unless one is asked for (the 3.9 line; see pom.xml). */
export const DEFAULT_KAFKA_VERSION = '3.9.2'

/** The broker version `KAFKA_VERSION` names, or {@link DEFAULT_KAFKA_VERSION} when unset or empty. */
export function kafkaVersionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.KAFKA_VERSION?.trim()
  return wanted === undefined || wanted === '' ? DEFAULT_KAFKA_VERSION : wanted
}

const POM = join(dirname(fileURLToPath(import.meta.url)), '..', 'pom.xml')
const COMPLETE = '.complete'

/** Options for {@link ensureKafkaJars}. */
export interface EnsureJarsOptions {
  home: string
  version?: string
  /** Progress lines (the Maven download can take a minute the first time). */
  onProgress?: (line: string) => void
}

/** The major version line of a Kafka version: `3.9.2` -> 3. */
export const kafkaMajor = (version: string): number => Number(version.split('.')[0])

/**
 * Returns the folder of the broker's jars, fetching them with Maven into the cache the first
 * time. A folder is used only once Maven finished writing it (a marker file), so an interrupted
 * download is fetched again rather than half used.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING` when Maven is needed and missing,
 *   `DEV_STACK_JARS_FETCH_FAILED` when Maven fails.
 */
export async function ensureKafkaJars(options: EnsureJarsOptions): Promise<string> {
  const version = options.version ?? DEFAULT_KAFKA_VERSION
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new AppError(
      'DEV_STACK_JARS_FETCH_FAILED',
      `"${version}" is not a Kafka version such as 3.9.2`,
      {
        retriable: false,
      },
    )
  }
  const libs = join(options.home, 'jars', `kafka-${version}`)
  // A folder fetched before an artifact joined the pom lacks its jar: fetched again.
  const required = [`kafka_2.13-${version}`, `kafka-tools-${version}`]
  const complete = (names: string[]): boolean =>
    required.every((prefix) => names.some((f) => f.startsWith(prefix) && f.endsWith('.jar')))
  if (existsSync(join(libs, COMPLETE)) && complete(readdirSync(libs))) return libs

  assertPrerequisites(['maven'])
  options.onProgress?.(`Fetching Apache Kafka ${version} jars with Maven (once; cached in ${libs})`)
  const staging = `${libs}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(dirname(libs), { recursive: true })
  const args = [
    '-B',
    '-q',
    '-f',
    POM,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${staging}`,
    `-Dkafka.version=${version}`,
    ...(kafkaMajor(version) >= 4 ? ['-Dkafka.line=4'] : []),
  ]
  const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.on('error', (error) => resolve({ code: -1, text: `${text}${error.message}` }))
    child.on('close', (code) => resolve({ code, text }))
  })
  const jars = existsSync(staging) ? readdirSync(staging).filter((f) => f.endsWith('.jar')) : []
  if (output.code !== 0 || !complete(jars)) {
    rmSync(staging, { recursive: true, force: true })
    throw new AppError(
      'DEV_STACK_JARS_FETCH_FAILED',
      `Maven could not fetch org.apache.kafka:kafka_2.13 and kafka-tools ${version}:\n${output.text.trim().slice(-2_000)}`,
    )
  }
  writeFileSync(join(staging, COMPLETE), `${new Date().toISOString()}\n`)
  rmSync(libs, { recursive: true, force: true })
  renameSync(staging, libs)
  options.onProgress?.(`Fetched ${jars.length} jars for Kafka ${version}`)
  return libs
}
