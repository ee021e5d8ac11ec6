/*
 * A Java subscriber of our registry-mode topics (test/interop/registry-java): a real Kafka consumer
 * group (kafka-clients) with Apicurio Registry's AvroKafkaDeserializer, which reads the Confluent
 * wire format (0x00, a 4-byte schema id, the Avro body) and fetches the writer schema by id from the
 * registry's native v3 API. Built once per process with Maven; run as a child process that prints
 * one JSON line per record.
 * Java 17+ and Maven are required: without them the caller fails loudly, it never skips.
 */
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { javaMajorFromVersionOutput } from '@wolkvox-chat-stream/dev-stack'

const exec = promisify(execFile)
const project = fileURLToPath(new URL('../interop/registry-java/', import.meta.url))
const MAIN_CLASS = 'com.wolkvoxchatstream.interop.RegistryConsumer'
/** Time the JVM gets beyond `timeoutMs` (start, group join, close) before it is killed. */
const GRACE_MS = 60_000

/** One record as the Java consumer printed it. */
export interface JavaRecord {
  partition: number
  offset: number
  /** The record key (conn_id for the message topic); null for a null key. */
  key: string | null
  event_id: string | null
  conn_id: string | null
  server: string | null
  message: string | null
  /** Epoch milliseconds (timestamp-millis). */
  sent_at: number
  /** null when the writer schema has no revision (ChatMessage v1). */
  revision: string | null
}

export interface RegistryConsumerRunOptions {
  /** Bootstrap servers, `host:port[,host:port…]`. */
  brokers: string
  topic: string
  /**
   * The registry's native v3 API: `<registry.url>/apis/registry/v3` for the dev-stack's Apicurio
   * (not its Confluent-compatible `ccompatUrl`).
   */
  registryUrl: string
  /** The consumer group (a fresh one reads from the earliest offsets). */
  groupId: string
  /** Records to wait for; the consumer exits 0 once it has printed at least this many. */
  count: number
  /** The consumer's own deadline for `count` records (exit status 1 when it passes). */
  timeoutMs: number
}

export interface RegistryConsumerRun {
  /** Every record printed, in the order read (more than `count` when the last poll held more). */
  records: JavaRecord[]
  /** The JVM's stderr (the consumer's summary line, client warnings). */
  stderr: string
  /** Wall-clock milliseconds from spawning the JVM to its exit. */
  ms: number
}

/** The Java consumer did not get its records: a timeout, a deserialization error, a crash. */
export class RegistryConsumerError extends Error {
  constructor(
    message: string,
    /** The JVM's exit status (1 timeout, 2 deserialization or other error, 64 usage), or null. */
    readonly exitCode: number | null,
    /** The records printed before it stopped. */
    readonly records: JavaRecord[],
    readonly stderr: string,
  ) {
    super(message)
    this.name = 'RegistryConsumerError'
  }
}

export interface RegistryConsumer {
  /**
   * Runs the consumer once and resolves with its records when it exits 0.
   * @throws RegistryConsumerError on a non-zero exit (its stderr's message in the error's), on
   * output that is not JSON lines, or when it outlives `timeoutMs` by a minute (then killed).
   */
  run(options: RegistryConsumerRunOptions): Promise<RegistryConsumerRun>
  /** The Maven build's milliseconds (0 when this process had already built it). */
  readonly buildMs: number
  /** `java -version`'s major version of the `java` that runs it. */
  readonly javaMajor: number
}

async function requireTool(command: string, args: string[], install: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, args, { timeout: 60_000 })
    return `${stdout}${stderr}`
  } catch (error) {
    throw new Error(
      `The Java registry consumer needs \`${command}\` (${install}); it is not usable here: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

async function build(): Promise<{ classpath: string; javaMajor: number; buildMs: number }> {
  const jdk = 'a JDK 17+: sudo apt-get install openjdk-17-jdk-headless'
  const version = await requireTool('java', ['-version'], jdk)
  const javaMajor = javaMajorFromVersionOutput(version)
  if (javaMajor === null || javaMajor < 17) {
    throw new Error(
      `The Java registry consumer needs Java 17 or newer on PATH (${jdk}); \`java -version\` says: ${version.trim()}`,
    )
  }
  await requireTool('javac', ['-version'], jdk)
  await requireTool('mvn', ['-v'], 'Apache Maven: sudo apt-get install maven')
  const startedAt = Date.now()
  const classpathFile = join(project, 'target/classpath.txt')
  try {
    // One Maven call; jars stay in ~/.m2, so later builds need no network.
    await exec(
      'mvn',
      [
        '-q',
        '-B',
        '-Dstyle.color=never',
        '-f',
        join(project, 'pom.xml'),
        'compile',
        'dependency:build-classpath',
        `-Dmdep.outputFile=${classpathFile}`,
      ],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    )
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(
      `Maven could not build ${project}: ${(error as Error).message}\n${`${stdout}${stderr}`.trim().slice(-4_000)}`,
      { cause: error },
    )
  }
  const classpath = [
    join(project, 'target/classes'),
    readFileSync(classpathFile, 'utf8').trim(),
  ].join(delimiter)
  return { classpath, javaMajor, buildMs: Date.now() - startedAt }
}

let built: Promise<{ classpath: string; javaMajor: number; buildMs: number }> | undefined

/**
 * Builds test/interop/registry-java with Maven (once per process; a failed build is tried again
 * on the next call) and returns a runner for it.
 * @throws Error naming the missing tool and how to install it when `java` (17+), `javac` or `mvn`
 * is not usable, or with Maven's output when the build fails.
 */
export async function buildRegistryConsumer(): Promise<RegistryConsumer> {
  const first = built === undefined
  if (built === undefined) {
    built = build()
    built.catch(() => (built = undefined))
  }
  const { classpath, javaMajor, buildMs } = await built
  return {
    buildMs: first ? buildMs : 0,
    javaMajor,
    run: (options) => runConsumer(classpath, options),
  }
}

function parseLines(stdout: string): JavaRecord[] {
  const records: JavaRecord[] = []
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue
    try {
      records.push(JSON.parse(line) as JavaRecord)
    } catch {
      throw new Error(`not a JSON line: ${line.slice(0, 300)}`)
    }
  }
  return records
}

async function runConsumer(
  classpath: string,
  options: RegistryConsumerRunOptions,
): Promise<RegistryConsumerRun> {
  const { brokers, topic, registryUrl, groupId, count, timeoutMs } = options
  const startedAt = Date.now()
  const child = spawn(
    'java',
    [
      '-cp',
      classpath,
      MAIN_CLASS,
      brokers,
      topic,
      registryUrl,
      groupId,
      String(count),
      String(timeoutMs),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
  let killed = false
  const guard = setTimeout(() => {
    killed = true
    child.kill('SIGKILL')
  }, timeoutMs + GRACE_MS)
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve(code))
  }).finally(() => clearTimeout(guard))
  const ms = Date.now() - startedAt
  const stdout = Buffer.concat(out).toString('utf8')
  const stderr = Buffer.concat(err).toString('utf8')
  let records: JavaRecord[]
  try {
    records = parseLines(stdout)
  } catch (error) {
    throw new RegistryConsumerError(
      `The Java registry consumer printed ${(error as Error).message}\n${stderr.slice(-4_000)}`,
      exitCode,
      [],
      stderr,
    )
  }
  if (exitCode !== 0) {
    // Its own message (timeout, deserialization error) first; then the end of its stderr.
    const own = stderr
      .split('\n')
      .filter((line) => line.startsWith('RegistryConsumer '))
      .join('\n')
    const why = killed
      ? `was killed: still running ${GRACE_MS / 1000} s after its ${timeoutMs} ms timeout`
      : `exited with ${exitCode ?? 'a signal'}`
    throw new RegistryConsumerError(
      `The Java registry consumer (group ${groupId}, topic ${topic}) ${why} after ${records.length} of ${count} records${own ? `: ${own}` : ''}\n${stderr.slice(-4_000)}`,
      exitCode,
      records,
      stderr,
    )
  }
  return { records, stderr, ms }
}
