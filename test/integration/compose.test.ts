import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { DEFAULT_KAFKA_VERSION } from '@wolkvox-chat-stream/dev-stack'
import {
  localPrometheusConfigFile,
  readPrometheusConfig,
  scrapeTargets,
} from '../support/prometheus.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const composeFile = join(root, 'docker-compose.yml')
const dclint = join(root, 'node_modules', '.bin', 'dclint')

describe('docker-compose.yml', () => {
  it('passes the compose-spec schema and lint rules offline', async () => {
    const { stdout } = await run(dclint, ['--max-warnings', '0', '--color', 'false', composeFile], {
      cwd: root,
    })
    expect(stdout).not.toMatch(/error/i)
  })

  it('runs the same Kafka version as the local jars', () => {
    expect(readFileSync(composeFile, 'utf8')).toContain(
      `image: apache/kafka:${DEFAULT_KAFKA_VERSION}\n`,
    )
  })

  it('is actually checked: a file that breaks the schema is rejected', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'compose-')), 'docker-compose.yml')
    writeFileSync(
      broken,
      readFileSync(composeFile, 'utf8').replace('    image: redis:', '    imagee: redis:'),
    )
    await expect(run(dclint, ['--color', 'false', broken], { cwd: root })).rejects.toMatchObject({
      stdout: expect.stringContaining('invalid-schema'),
    })
  })
})

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string; args?: Record<string, string | number> }
  volumes?: string[]
  environment?: Record<string, string | number>
  network_mode?: string
  command?: string[]
  healthcheck?: { test: string[] | string; disable?: boolean }
}
const compose = parse(readFileSync(composeFile, 'utf8')) as {
  services: Record<string, ComposeService>
}
const services = Object.entries(compose.services)
const built = services.filter(([, s]) => s.build !== undefined)
const httpPortOf = (s: ComposeService): number | undefined =>
  s.environment?.HTTP_PORT === undefined ? undefined : Number(s.environment.HTTP_PORT)
/** `./host/path:/container/path[:ro]` of a service, by host path. */
const mounts = (s: ComposeService): Map<string, string> =>
  new Map(
    (s.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => {
        const [host, container] = v.split(':')
        return [posix.normalize(host!), container!]
      }),
  )

describe('docker-compose.yml runs the whole product', () => {
  it('has every service of the product', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'chat-quality',
        'dashboard',
        'grafana',
        'kafka',
        'poller',
        'prometheus',
        'redis',
        'sentiment-aggregator',
        'tramite-classifier',
        'wolkvox-simulator',
      ].sort(),
    )
  })

  it('gives every service a health check', () => {
    for (const [name, service] of services) {
      expect(service.healthcheck?.test, name).toBeDefined()
      expect(service.healthcheck?.disable, name).not.toBe(true)
      expect(JSON.stringify(service.healthcheck?.test), name).not.toContain('NONE')
    }
  })

  it('builds each of its services from a Dockerfile that exists, runs code that exists and checks its own port', () => {
    expect(built.map(([name]) => name).sort()).toEqual(
      [
        'chat-quality',
        'dashboard',
        'poller',
        'sentiment-aggregator',
        'tramite-classifier',
        'wolkvox-simulator',
      ].sort(),
    )
    for (const [name, service] of built) {
      const dockerfile = join(root, service.build!.context, service.build!.dockerfile)
      expect(existsSync(dockerfile), `${name}: ${dockerfile}`).toBe(true)
      expect(existsSync(`${dockerfile}.dockerignore`), `${name}: ${dockerfile}.dockerignore`).toBe(
        true,
      )
      const text = readFileSync(dockerfile, 'utf8')
      expect(text, name).toMatch(/^HEALTHCHECK /m)
      expect(text, name).toMatch(/^EXPOSE \$\{PORT\}$/m)
      // Every argument the service gives is one the Dockerfile declares, and none is missing.
      const args = service.build!.args ?? {}
      const declared = new Set([...text.matchAll(/^ARG (\w+)/gm)].map((m) => m[1]!))
      expect(Object.keys(args).sort(), name).toEqual(
        ['ENTRY', 'HEALTH_PATH', 'PORT', 'WORKSPACE'].filter((a) => declared.has(a)),
      )
      // The compiled entry point comes from a source file of the workspace.
      const source = join(
        root,
        'services',
        String(args.WORKSPACE),
        'src',
        `${String(args.ENTRY)}.ts`,
      )
      expect(existsSync(source), `${name}: ${source}`).toBe(true)
      const port = httpPortOf(service)
      expect(port, name).toBeDefined()
      expect(String(args.PORT), name).toBe(String(port))
      expect(['/healthz', '/readyz'], name).toContain(args.HEALTH_PATH)
      expect(JSON.stringify(service.healthcheck!.test), name).toContain(
        `127.0.0.1:${port}${String(args.HEALTH_PATH)}`,
      )
    }
  })

  it('scrapes every service it builds, each job at its service and HTTP port', () => {
    const targets = scrapeTargets()
    expect([...targets.keys()].sort()).toEqual(['prometheus', ...built.map(([n]) => n)].sort())
    for (const [job, target] of targets) {
      if (job === 'prometheus') continue
      const [host, port] = target.split(':')
      expect(compose.services[host!], `${job}: host ${host}`).toBeDefined()
      // The job's service listens on the host's network: its own, or one it shares.
      const service = compose.services[job]!
      const network = service.network_mode?.replace(/^service:/, '') ?? job
      expect(network, job).toBe(host)
      expect(httpPortOf(service), job).toBe(Number(port))
    }
  })

  it('gives Prometheus without Docker the same jobs, each at 127.0.0.1 and its HTTP port', () => {
    const local = scrapeTargets(readPrometheusConfig(localPrometheusConfigFile))
    expect([...local.keys()].sort()).toEqual([...scrapeTargets().keys()].sort())
    for (const [job, target] of local) {
      const port = job === 'prometheus' ? 9090 : httpPortOf(compose.services[job]!)
      expect(target, job).toBe(`127.0.0.1:${port}`)
    }
    expect(readPrometheusConfig(localPrometheusConfigFile).rule_files).toEqual(
      readPrometheusConfig().rule_files,
    )
  })

  it('mounts prometheus.yml next to the rule files it loads', () => {
    const prometheus = compose.services.prometheus!
    const configDir = mounts(prometheus).get('deploy/prometheus')
    expect(configDir).toBeDefined()
    expect(prometheus.command).toContain(`--config.file=${configDir}/prometheus.yml`)
    const ruleFiles = readPrometheusConfig().rule_files ?? []
    expect(ruleFiles.length).toBeGreaterThan(0)
    const files = readdirSync(join(root, 'deploy', 'prometheus'), {
      recursive: true,
      encoding: 'utf8',
    })
    for (const pattern of ruleFiles) {
      // Relative to the configuration file's directory, in the container as here.
      expect(pattern, 'rule files are relative').not.toMatch(/^\//)
      const glob = new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*')}$`,
      )
      expect(
        files.filter((f) => glob.test(f)),
        pattern,
      ).toContain('rules/wolkvox-chat-stream.rules.yml')
    }
  })

  it('provisions Grafana with the Prometheus datasource and the dashboard', () => {
    const grafana = compose.services.grafana!
    const mounted = mounts(grafana)
    expect(mounted.get('deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning')
    const dashboardsDir = mounted.get('deploy/grafana/dashboards')
    expect(dashboardsDir).toBeDefined()
    const provisioning = join(root, 'deploy', 'grafana', 'provisioning')
    const providers = readdirSync(join(provisioning, 'dashboards')).flatMap(
      (f) =>
        (
          parse(readFileSync(join(provisioning, 'dashboards', f), 'utf8')) as {
            providers: { type: string; options: { path: string } }[]
          }
        ).providers,
    )
    expect(providers.map((p) => p.options.path)).toEqual([dashboardsDir])
    const datasources = readdirSync(join(provisioning, 'datasources')).flatMap(
      (f) =>
        (
          parse(readFileSync(join(provisioning, 'datasources', f), 'utf8')) as {
            datasources: { uid: string; type: string; url: string }[]
          }
        ).datasources,
    )
    expect(datasources).toHaveLength(1)
    const [datasource] = datasources
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' })
    expect(compose.services.prometheus!.healthcheck!.test).toContain(
      'http://localhost:9090/-/ready',
    )
    // Every panel and variable of every dashboard reads that datasource.
    const dashboards = readdirSync(join(root, 'deploy', 'grafana', 'dashboards'))
    expect(dashboards.length).toBeGreaterThan(0)
    for (const file of dashboards) {
      const text = readFileSync(join(root, 'deploy', 'grafana', 'dashboards', file), 'utf8')
      const uids = [...text.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1])
      const datasourceUids = [
        ...text.matchAll(/"datasource": \{\s*"type": "prometheus",\s*"uid": "([^"]+)"/g),
      ].map((m) => m[1])
      expect(datasourceUids.length, file).toBeGreaterThan(0)
      expect(new Set(datasourceUids), file).toEqual(new Set([datasource!.uid]))
      expect(uids.filter((u) => u !== datasource!.uid).length, `${file}: its own uid`).toBe(1)
    }
  })

  it('points the page at the services it shows', () => {
    const env = compose.services.dashboard!.environment!
    const at = (name: string): string => {
      const service = compose.services[name]!
      const host = service.network_mode?.replace(/^service:/, '') ?? name
      return `http://${host}:${httpPortOf(service)}`
    }
    expect(env).toMatchObject({
      POLLER_URL: at('poller'),
      SENTIMENT_URL: at('sentiment-aggregator'),
      CLASSIFIER_URL: at('tramite-classifier'),
      QUALITY_URL: at('chat-quality'),
    })
  })
})
