import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Env } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { spawnLogged, stopChild, tail } from './child.js'
import { devStackHome } from './paths.js'
import { freePort, isPortFree } from './ports.js'
import { assertPrerequisites } from './prerequisites.js'
import {
  cleanupOrphans,
  registerProcess,
  unregisterProcess,
  type ProcessRecord,
} from './process-registry.js'

/*
 * A real Apicurio Registry for tests, `stack:up --registry` and `SCHEMA_REGISTRY=true npm start`:
 * the runnable Quarkus distribution from Maven Central (io.apicurio:apicurio-registry-app:<v>:
 * tar.gz:all, fetched once by schema-registry.pom.xml), run with `java -jar quarkus-run.jar`, its
 * storage in memory (the default: everything is gone when it stops). It serves the
 * Confluent-compatible API at `/apis/ccompat/v7` and its own at `/apis/registry/v3`.
 */

/** The registry version used unless one is asked for (`SCHEMA_REGISTRY_VERSION`). */
export const DEFAULT_SCHEMA_REGISTRY_VERSION = '3.3.3'

/** The Confluent-compatible API's path under the registry's URL. */
export const CCOMPAT_PATH = '/apis/ccompat/v7'

const POM = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema-registry.pom.xml')
const COMPLETE = '.complete'
const RUN_JAR = 'quarkus-run.jar'

/**
 * The registry version `SCHEMA_REGISTRY_VERSION` names, or {@link DEFAULT_SCHEMA_REGISTRY_VERSION}
 * when unset or empty.
 */
export function schemaRegistryVersionFromEnv(env: Env = process.env): string {
  const wanted = env.SCHEMA_REGISTRY_VERSION?.trim()
  return wanted === undefined || wanted === '' ? DEFAULT_SCHEMA_REGISTRY_VERSION : wanted
}

/** The Java a registry version needs: 3.0.x runs on 17, later 3.x releases need 21. */
export function registryJavaMajor(version: string): number {
  const [major, minor] = version.split('.').map(Number)
  return major === 3 && minor === 0 ? 17 : 21
}

/** The major version in `java -version` output (`openjdk version "25.0.3"` -> 25), or null. */
export function javaMajorFromVersionOutput(text: string): number | null {
  // `openjdk version "17.0.15"`, `java version "1.8.0_392"`, `openjdk version "21" 2023-09-19`
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text)
  if (!match) return null
  const major = Number(match[1])
  return major === 1 ? Number(match[2]) : major
}

/** A Java runtime found on this machine. */
export interface JavaInstall {
  /** The `java` executable (a path, or `java` for the one on PATH). */
  path: string
  major: number
}

/** The newest of `installs` with at least `minMajor`, the first listed among equals; or null. */
export function chooseJava(installs: readonly JavaInstall[], minMajor: number): JavaInstall | null {
  let best: JavaInstall | null = null
  for (const install of installs) {
    if (install.major < minMajor) continue
    if (best === null || install.major > best.major) best = install
  }
  return best
}

/** `java` under a JDK folder, or the path itself when it names an executable. */
const javaIn = (path: string): string =>
  existsSync(join(path, 'bin', 'java')) ? join(path, 'bin', 'java') : path

/** Every `<parent>/<folder><suffix>` that exists, for each folder of each parent. */
function under(parents: readonly string[], suffix: string): string[] {
  const found: string[] = []
  for (const parent of parents) {
    let names: string[]
    try {
      names = readdirSync(parent).sort()
    } catch {
      continue
    }
    for (const name of names) {
      const path = join(parent, name, suffix)
      if (existsSync(path)) found.push(path)
    }
  }
  return found
}

/**
 * The `java` executables worth asking for their version, in order of preference among equal
 * versions: `JAVA_HOME`, the one on PATH, then the usual install folders (Linux packages, macOS,
 * Homebrew, SDKMAN).
 */
export function javaCandidates(env: Env = process.env): string[] {
  const home = env.HOME ?? homedir()
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'java'))
    .find((path) => existsSync(path))
  const paths = [
    ...(env.JAVA_HOME ? [join(env.JAVA_HOME, 'bin', 'java')] : []),
    ...(onPath ? [onPath] : []),
    ...under(['/usr/lib/jvm', '/usr/java', '/opt/java', '/opt/jdk'], 'bin/java'),
    ...under(['/Library/Java/JavaVirtualMachines'], 'Contents/Home/bin/java'),
    ...under(['/opt/homebrew/opt', '/usr/local/opt'], 'bin/java').filter((p) =>
      /\/openjdk[^/]*\/bin\/java$/.test(p),
    ),
    ...under([join(home, '.sdkman', 'candidates', 'java')], 'bin/java'),
  ]
  const seen = new Set<string>()
  const unique: string[] = []
  for (const path of paths) {
    if (!existsSync(path)) continue
    let real = path
    try {
      real = realpathSync(path)
    } catch {
      // a dangling link: tried as is
    }
    if (seen.has(real)) continue
    seen.add(real)
    unique.push(path)
  }
  return unique
}

const versions = new Map<string, number | null>()

/** The major version of the Java at `path` (it runs `<path> -version` once per process). */
export function javaMajorAt(path: string): number | null {
  const known = versions.get(path)
  if (known !== undefined) return known
  const result = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 30_000 })
  const major =
    result.status === 0
      ? javaMajorFromVersionOutput(`${result.stdout ?? ''}${result.stderr ?? ''}`)
      : null
  versions.set(path, major)
  return major
}

/**
 * The newest Java on this machine of at least `minMajor`: `SCHEMA_REGISTRY_JAVA` (a `java` or a
 * JDK folder) when set, else the newest of {@link javaCandidates}, each asked for its version
 * (folder names are not trusted).
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING` naming what was found and how to fix it.
 */
export function findJava(minMajor: number, env: Env = process.env): JavaInstall {
  const explicit = env.SCHEMA_REGISTRY_JAVA?.trim()
  const paths = explicit ? [javaIn(explicit)] : javaCandidates(env)
  const installs: JavaInstall[] = []
  const found: string[] = []
  for (const path of paths) {
    const major = javaMajorAt(path)
    found.push(`${path} (${major === null ? 'did not run' : `Java ${major}`})`)
    if (major !== null) installs.push({ path, major })
  }
  const chosen = chooseJava(installs, minMajor)
  if (chosen) return chosen
  throw new AppError(
    'DEV_STACK_PREREQUISITE_MISSING',
    `The Apicurio Registry needs Java ${minMajor} or newer; found ${found.length > 0 ? found.join(', ') : 'no Java'}` +
      `${explicit ? ' (SCHEMA_REGISTRY_JAVA)' : ''}. Install one (sudo apt-get install openjdk-21-jre-headless; ` +
      `macOS: brew install openjdk@21), or point SCHEMA_REGISTRY_JAVA at one already installed.`,
    { retriable: false, details: { minMajor, found } },
  )
}

/** Runs Maven and resolves with its exit code and output. */
async function runMaven(args: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.on('error', (error) => resolve({ code: -1, text: `${text}${error.message}` }))
    child.on('close', (code) => resolve({ code, text }))
  })
}

/**
 * Returns the folder of the registry's distribution (`quarkus-run.jar` and its libraries),
 * fetching it with Maven (`dependency:unpack` of schema-registry.pom.xml) into
 * `<home>/jars/apicurio-registry-<version>` the first time. As for the Kafka jars, a folder is
 * used only once Maven finished writing it (a marker file).
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING` when Maven is needed and missing,
 *   `DEV_STACK_JARS_FETCH_FAILED` when Maven fails.
 */
export async function ensureSchemaRegistryDistribution(options: {
  home: string
  version?: string
  onProgress?: (line: string) => void
}): Promise<string> {
  const version = options.version ?? DEFAULT_SCHEMA_REGISTRY_VERSION
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new AppError(
      'DEV_STACK_JARS_FETCH_FAILED',
      `"${version}" is not an Apicurio Registry version such as ${DEFAULT_SCHEMA_REGISTRY_VERSION}`,
      { retriable: false },
    )
  }
  const dist = join(options.home, 'jars', `apicurio-registry-${version}`)
  const complete = (dir: string): boolean =>
    existsSync(join(dir, COMPLETE)) && existsSync(join(dir, RUN_JAR))
  if (complete(dist)) return dist

  assertPrerequisites(['maven'])
  options.onProgress?.(
    `Fetching Apicurio Registry ${version} with Maven (once, about 160 MB; cached in ${dist})`,
  )
  const staging = `${dist}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(dirname(dist), { recursive: true })
  const output = await runMaven([
    '-B',
    '-q',
    '-f',
    POM,
    'dependency:unpack',
    `-Dregistry.version=${version}`,
    `-Dregistry.outputDirectory=${staging}`,
  ])
  if (output.code !== 0 || !existsSync(join(staging, RUN_JAR))) {
    rmSync(staging, { recursive: true, force: true })
    throw new AppError(
      'DEV_STACK_JARS_FETCH_FAILED',
      `Maven could not fetch io.apicurio:apicurio-registry-app:${version}:tar.gz:all:\n${output.text.trim().slice(-2_000)}`,
    )
  }
  rmSync(join(staging, '.maven-markers'), { recursive: true, force: true })
  if (complete(dist)) {
    // Another start fetched it meanwhile (and may be running it): that copy stays.
    rmSync(staging, { recursive: true, force: true })
    return dist
  }
  writeFileSync(join(staging, COMPLETE), `${new Date().toISOString()}\n`)
  rmSync(dist, { recursive: true, force: true })
  renameSync(staging, dist)
  options.onProgress?.(`Fetched Apicurio Registry ${version}`)
  return dist
}

/** Options for {@link startSchemaRegistry}. */
export interface SchemaRegistryOptions {
  /** Cache and run folder (default {@link devStackHome}). */
  home?: string
  /** HTTP port (the API); a free one when omitted. */
  port?: number
  /** Quarkus management port (`/health/ready`, `/metrics`); a free one when omitted. */
  managementPort?: number
  /** Default `SCHEMA_REGISTRY_VERSION`, else {@link DEFAULT_SCHEMA_REGISTRY_VERSION}. */
  version?: string
  /**
   * Maximum heap in MiB (default 128). It starts and serves with 64; its resident memory (about
   * 250-300 MB) is mostly classes and code, whatever the heap.
   */
  heapMb?: number
  /** How long to wait for the API and the health check (default 120 s). */
  readyTimeoutMs?: number
  /** Keeps running after this process exits (for `stack:up`). Default false. */
  detached?: boolean
  /** In a process group of its own: a terminal's Ctrl-C reaches only its owner (npm start). */
  ownProcessGroup?: boolean
  onProgress?: (line: string) => void
}

/** A running Apicurio Registry that this process started. */
export interface SchemaRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The Confluent-compatible API: `<url>/apis/ccompat/v7` (what `SCHEMA_REGISTRY_URL` holds). */
  readonly ccompatUrl: string
  readonly port: number
  /** Quarkus's management interface: `/health/ready`, `/metrics`. */
  readonly managementPort: number
  readonly version: string
  /** The `java` it runs on, and that Java's major version. */
  readonly java: JavaInstall
  /** Its output (Quarkus logs to the console). */
  readonly logFile: string
  /** Its folder (log, temporary files); removed by {@link SchemaRegistry.stop}. */
  readonly workDir: string
  /** The JVM's pid; -1 when not running. */
  pid(): number
  /** Milliseconds from spawn to ready, for the last start. */
  readonly readyMs: number
  /** Stops the process (its schemas are gone: in-memory storage), keeping its folder. */
  stopProcess(): Promise<void>
  /** Starts it again on the same ports, empty (after {@link SchemaRegistry.stopProcess}). */
  start(): Promise<void>
  /** Stops it and removes its folder. Safe to call twice; never leaves a process behind. */
  stop(): Promise<void>
}

/**
 * One readiness probe: the Confluent API lists subjects (200) and the management health check,
 * where there is one, says UP. A 404 or a refused connection on the management port means no
 * health check (not a failure); a 503 (DOWN) means not ready yet.
 */
async function isReady(ccompatUrl: string, healthUrl: string): Promise<boolean> {
  try {
    const subjects = await fetch(`${ccompatUrl}/subjects`, { signal: AbortSignal.timeout(2_000) })
    await subjects.body?.cancel()
    if (subjects.status !== 200) return false
  } catch {
    return false
  }
  try {
    const health = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) })
    if (health.status === 404) {
      await health.body?.cancel()
      return true
    }
    const body = (await health.json().catch(() => ({}))) as { status?: unknown }
    return health.ok && body.status === 'UP'
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code
    return code === 'ECONNREFUSED'
  }
}

/**
 * Starts an Apicurio Registry on 127.0.0.1 (in-memory storage) with the newest Java the version
 * can run on ({@link findJava}), from the distribution Maven fetched, and resolves once
 * `GET <ccompatUrl>/subjects` answers 200 and `/health/ready` on the management port says UP.
 * It is recorded in the process registry, so a later start removes it if this process dies
 * without stopping it. Orphans of killed runs are removed first.
 * @throws AppError `DEV_STACK_PREREQUISITE_MISSING`, `DEV_STACK_JARS_FETCH_FAILED`,
 *   `DEV_STACK_REGISTRY_START_FAILED` (with the tail of its log).
 */
export async function startSchemaRegistry(
  options: SchemaRegistryOptions = {},
): Promise<SchemaRegistry> {
  const home = options.home ?? devStackHome()
  const version = options.version ?? schemaRegistryVersionFromEnv()
  const java = findJava(registryJavaMajor(version))
  cleanupOrphans(home)
  const dist = await ensureSchemaRegistryDistribution({
    home,
    version,
    onProgress: options.onProgress,
  })

  const port = options.port ?? (await freePort())
  let managementPort = options.managementPort ?? (await freePort())
  while (managementPort === port) managementPort = await freePort()
  for (const p of [port, managementPort]) {
    if (!(await isPortFree(p))) {
      throw new AppError(
        'DEV_STACK_REGISTRY_START_FAILED',
        `Port ${p} on 127.0.0.1 is already in use`,
        { retriable: false, details: { port: p } },
      )
    }
  }

  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const workDir = join(home, 'schema-registry', id)
  const tmpDir = join(workDir, 'tmp')
  const logFile = join(workDir, 'registry.log')
  mkdirSync(tmpDir, { recursive: true })
  const url = `http://127.0.0.1:${port}`
  const ccompatUrl = `${url}${CCOMPAT_PATH}`
  // Its management root path is `/` (not Quarkus's `/q`): health at /health/ready, metrics at /metrics.
  const healthUrl = `http://127.0.0.1:${managementPort}/health/ready`
  const marker = `-Dwolkvox.devstack=${id}`
  const heapMb = options.heapMb ?? 128
  const javaArgs = [
    `-Xmx${heapMb}m`,
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${tmpDir}`,
    marker,
    '-jar',
    join(dist, RUN_JAR),
  ]
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUARKUS_HTTP_HOST: '127.0.0.1',
    QUARKUS_HTTP_PORT: String(port),
    QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
    QUARKUS_MANAGEMENT_PORT: String(managementPort),
    // Its snapshot and import folders default to /tmp; ours goes with the folder.
    APICURIO_STORAGE_SNAPSHOT_LOCATION: tmpDir,
    APICURIO_IMPORT_WORK_DIR: tmpDir,
    // A development registry: its native API may delete too (the Confluent API always may).
    APICURIO_REST_DELETION_GROUP_ENABLED: 'true',
    APICURIO_REST_DELETION_ARTIFACT_ENABLED: 'true',
    APICURIO_REST_DELETION_ARTIFACT_VERSION_ENABLED: 'true',
  }

  let child: ChildProcess | undefined
  let record: ProcessRecord | undefined
  let lastReadyMs = 0
  let removed = false

  const start = async (): Promise<void> => {
    const startedAt = Date.now()
    const proc = spawnLogged(java.path, javaArgs, {
      logFile,
      detached: options.detached ?? false,
      ownGroup: options.ownProcessGroup ?? false,
      cwd: workDir,
      env,
    })
    if (proc.pid === undefined) {
      throw new AppError('DEV_STACK_REGISTRY_START_FAILED', `${java.path} could not be started`)
    }
    child = proc
    const current: ProcessRecord = {
      kind: 'service',
      pid: proc.pid,
      ownerPid: options.detached ? null : process.pid,
      marker,
      workDir,
      ports: [port, managementPort],
      startedAt: new Date(startedAt).toISOString(),
    }
    record = current
    registerProcess(home, current)
    const deadline = startedAt + (options.readyTimeoutMs ?? 120_000)
    const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null
    while (!exited() && Date.now() < deadline) {
      if (await isReady(ccompatUrl, healthUrl)) {
        lastReadyMs = Date.now() - startedAt
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const why = exited()
      ? `exited (${proc.signalCode ?? `code ${proc.exitCode}`})`
      : `did not become ready within ${Math.round((deadline - startedAt) / 1000)} s`
    // Killed and reaped before the error, so a caller sees the pid gone.
    await stopChild(proc, 5_000)
    unregisterProcess(home, current)
    child = undefined
    throw new AppError(
      'DEV_STACK_REGISTRY_START_FAILED',
      `Apicurio Registry ${version} (Java ${java.major}, ${java.path}) on ${url} ${why}; see ${logFile}\n${tail(logFile, 25)}`,
      { details: { log: logFile, workDir, port, managementPort, pid: proc.pid } },
    )
  }

  const stopProcess = async (): Promise<void> => {
    const proc = child
    if (proc?.pid === undefined || record === undefined) return
    // Signalled as a group when it leads one, so nothing it started stays behind.
    await stopChild(proc, 15_000)
    unregisterProcess(home, record)
    child = undefined
  }

  // On failure its folder stays, with the whole log.
  await start()
  return {
    url,
    ccompatUrl,
    port,
    managementPort,
    version,
    java,
    logFile,
    workDir,
    pid: () => child?.pid ?? -1,
    get readyMs() {
      return lastReadyMs
    },
    stopProcess,
    start: async () => {
      if (removed)
        throw new AppError(
          'DEV_STACK_REGISTRY_START_FAILED',
          'this schema registry was stopped and removed',
        )
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
        // It exited on its own: forget it, then start it again.
        if (record) unregisterProcess(home, record)
        child = undefined
      }
      if (child === undefined) await start()
    },
    stop: async () => {
      await stopProcess()
      if (!removed) rmSync(workDir, { recursive: true, force: true })
      removed = true
    },
  }
}
