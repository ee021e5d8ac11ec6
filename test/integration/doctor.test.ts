/*
 * `npm run doctor` against the run's real broker and redis-server and a real simulator: a good
 * configuration passes every check, then each check is made to fail once, and its ✗ line must
 * name what is wrong and the fix, with exit code 1. The doctor never writes: the topics it checks
 * are provisioned here, and a run without --call spends no report call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  consumerServiceAcls,
  grantAcls,
  productAcls,
  startKafkaCluster,
  startRedisCluster,
  startSchemaRegistry,
  type KafkaCluster,
  type RedisCluster,
  type KafkaClusterSecurity,
  type SchemaRegistry,
} from '@wolkvox-chat-stream/dev-stack'
import { chatMessageCodec, dlqTopic, productTopics, topics } from '@wolkvox-chat-stream/events'
import { createKafkaClient, provisionTopics } from '@wolkvox-chat-stream/kafka'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  closedPort,
  lineOf,
  runDoctorCli,
  silentPort,
  startEvictingRedis,
  startPasswordRedis,
} from '../support/doctor-cli.js'
import { newServerCode } from '../support/poller-harness.js'
import { uniqueName } from '../support/wait-for.js'

const kafkaBrokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')
const TOKEN = `canary-doctor-${Math.random().toString(36).slice(2, 10)}`
const HTTP_TOKEN = `canary-http-token-${Math.random().toString(36).slice(2, 12)}`
const UPSTREAM_TOKEN = `canary-upstream-token-${Math.random().toString(36).slice(2, 12)}`
const FAST = ['--timeout', '2000']

/** What the services provision at start (the doctor only verifies). */
const provisioned = [
  ...productTopics,
  ...['sentiment-aggregator', 'tramite-classifier', 'chat-quality', 'chat-quality-tramites'].map(
    (group) => dlqTopic(group),
  ),
]

describe('npm run doctor', () => {
  let sim: RunningSimulator
  let dir: string
  let good: Record<string, string>
  const server = newServerCode()
  const own = uniqueName('doctor')
  const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'doctor-test' })

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 6, seed: 5 })
    dir = mkdtempSync(join(tmpdir(), 'doctor-'))
    writeFileSync(join(dir, 'http-tokens'), `# tokens\n${HTTP_TOKEN}\n`, { mode: 0o600 })
    writeFileSync(join(dir, 'upstream-token'), `${UPSTREAM_TOKEN}\n`, { mode: 0o600 })
    good = {
      KAFKA_BROKERS: kafkaBrokers,
      REDIS_URL: redisUrl,
      WOLKVOX_SERVER: server,
      WOLKVOX_TOKEN: TOKEN,
      WOLKVOX_BASE_URL: sim.url,
      HTTP_AUTH_TOKEN_FILE: join(dir, 'http-tokens'),
      DASHBOARD_UPSTREAM_TOKEN_FILE: join(dir, 'upstream-token'),
      // A new Redis holds a token lock back one TTL (token-lock): short, for --call.
      POLL_LOCK_TTL: '3s',
    }
    // What the services provision at start (the doctor only verifies): the contract's topics
    // and each consumer's dead-letter topic.
    await provisionTopics(
      kafka,
      [
        ...productTopics,
        ...[
          'sentiment-aggregator',
          'tramite-classifier',
          'chat-quality',
          'chat-quality-tramites',
        ].map((group) => dlqTopic(group)),
      ],
      { create: true },
    )
  })

  afterAll(async () => {
    await sim?.close()
    rmSync(dir, { recursive: true, force: true })
    const admin = kafka.admin()
    await admin.connect()
    const mine = (await admin.listTopics()).filter((t) => t.includes(own))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
    await admin.disconnect()
  })

  it('passes every check of a good configuration, spending no report call', async () => {
    sim.clearCalls()
    const run = await runDoctorCli(FAST, good)
    expect(run.stderr).toBe('')
    expect(run.lines.map((l) => l.replace(/ \(.*\)$/u, ''))).toEqual([
      '✓ config poller',
      '✓ config sentiment-aggregator',
      '✓ config tramite-classifier',
      '✓ config chat-quality',
      '✓ kafka connection',
      '✓ kafka topics',
      '- kafka acls: not configured',
      '✓ redis connection',
      '✓ redis maxmemory-policy',
      '- redis cluster slots: not configured',
      '- schema registry: not configured',
      '- schema registry subjects: not configured',
      `✓ wolkvox ${server}`,
      '✓ rules tramite-classifier',
      '✓ rules chat-quality',
      '✓ http token file',
      '✓ dashboard upstream token file',
    ])
    expect(lineOf(run, 'kafka topics')).toBe('✓ kafka topics (10 topics as provisioned)')
    expect(lineOf(run, 'redis maxmemory-policy')).toBe(
      '✓ redis maxmemory-policy (noeviction on 1 node)',
    )
    expect(lineOf(run, `wolkvox ${server}`)).toBe(
      `✓ wolkvox ${server} (${sim.url} answers HTTP 404)`,
    )
    expect(lineOf(run, 'http token file')).toBe(
      `✓ http token file (${join(dir, 'http-tokens')}: 1 token)`,
    )
    expect(lineOf(run, 'dashboard upstream token file')).toBe(
      `✓ dashboard upstream token file (${join(dir, 'upstream-token')}: 1 token)`,
    )
    expect(run.stdout).toContain('ready: 13 passed, 0 failed, 4 skipped')
    expect(run.code).toBe(0)
    expect(sim.calls()).toHaveLength(0)
    expect(run.stdout).not.toContain(TOKEN)
    expect(run.stdout).not.toContain(HTTP_TOKEN)
    expect(run.stdout).not.toContain(UPSTREAM_TOKEN)
  })

  it('prints the same report as JSON with --json', async () => {
    const run = await runDoctorCli([...FAST, '--json'], good)
    const report = JSON.parse(run.stdout) as {
      check: string
      status: string
      ok: boolean
      detail: string
      fix: string
    }[]
    expect(report.map((r) => [r.check, r.status, r.ok])).toEqual([
      ['config poller', 'pass', true],
      ['config sentiment-aggregator', 'pass', true],
      ['config tramite-classifier', 'pass', true],
      ['config chat-quality', 'pass', true],
      ['kafka connection', 'pass', true],
      ['kafka topics', 'pass', true],
      ['kafka acls', 'skip', true],
      ['redis connection', 'pass', true],
      ['redis maxmemory-policy', 'pass', true],
      ['redis cluster slots', 'skip', true],
      ['schema registry', 'skip', true],
      ['schema registry subjects', 'skip', true],
      [`wolkvox ${server}`, 'pass', true],
      ['rules tramite-classifier', 'pass', true],
      ['rules chat-quality', 'pass', true],
      ['http token file', 'pass', true],
      ['dashboard upstream token file', 'pass', true],
    ])
    expect(report.every((r) => r.fix === '')).toBe(true)
    expect(run.code).toBe(0)
  })

  it('with --call makes one report call through the token lock, and names a refused token', async () => {
    sim.clearCalls()
    const run = await runDoctorCli([...FAST, '--call'], good)
    expect(lineOf(run, `wolkvox ${server} report call`)).toMatch(
      new RegExp(
        `^✓ wolkvox ${server} report call \\(token accepted: HTTP (200|404), \\d+ chats in \\d{14} – \\d{14}; 1 call counted against the daily quota\\)$`,
        'u',
      ),
    )
    expect(sim.calls()).toHaveLength(1)
    expect(run.code).toBe(0)

    const wrong = await runDoctorCli([...FAST, '--call'], {
      ...good,
      WOLKVOX_TOKEN: `${TOKEN}-wrong`,
    })
    const line = lineOf(wrong, `wolkvox ${server} report call`)
    expect(line).toMatch(/^✗ wolkvox \d+ report call: WOLKVOX_TOKEN_INVALID: /u)
    expect(line).toMatch(
      / — check WOLKVOX_TOKEN \(or WOLKVOX_TOKEN_FILE, or the operations file\) for this operation: Wolkvox refused it$/u,
    )
    expect(wrong.stdout).not.toContain(TOKEN)
    expect(wrong.code).toBe(1)
  })

  it('fails the configuration line of a service, with its code and variable', async () => {
    const run = await runDoctorCli(FAST, { ...good, WOLKVOX_SERVER: 'abc' })
    expect(lineOf(run, 'config poller')).toBe(
      '✗ config poller: CONFIG_INVALID: Invalid configuration (1 problem): WOLKVOX_SERVER: must be 1 to 6 digits, such as 0010 — set each variable named as it says (README: The poller)',
    )
    expect(lineOf(run, 'config tramite-classifier')).toBe('✓ config tramite-classifier')
    expect(lineOf(run, 'wolkvox')).toBe(
      "- wolkvox: not checked (the poller's configuration is invalid)",
    )
    expect(run.code).toBe(1)
  })

  it('fails, within its bound, on a Kafka that accepts connections and never answers', async () => {
    const silent = await silentPort()
    try {
      const run = await runDoctorCli(FAST, { ...good, KAFKA_BROKERS: `127.0.0.1:${silent.port}` })
      expect(lineOf(run, 'kafka connection')).toMatch(
        new RegExp(
          `^✗ kafka connection: KAFKA_UNAVAILABLE: not connected to 127\\.0\\.0\\.1:${silent.port} within 2000 ms.* — check that KAFKA_BROKERS \\(127\\.0\\.0\\.1:${silent.port}\\) names running brokers reachable from here, and set KAFKA_SSL=true if the listener speaks TLS$`,
          'u',
        ),
      )
      expect(lineOf(run, 'kafka topics')).toBe('- kafka topics: not checked (no connection)')
      expect(lineOf(run, 'redis connection')).toMatch(/^✓ /u)
      expect(run.code).toBe(1)
    } finally {
      await silent.close()
    }
  })

  it('names each topic with the wrong partitions or cleanup policy and the command that fixes it', async () => {
    const output = `${own}.out`
    const dlq = `wolkvox.${own}.dlq`
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: output,
            numPartitions: 2,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'max.message.bytes', value: String(17 * 1024 * 1024) },
            ],
          },
          {
            topic: dlq,
            numPartitions: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'retention.ms', value: String(30 * 86_400_000) },
              { name: 'max.message.bytes', value: String(17 * 1024 * 1024) },
            ],
          },
        ],
      })
    } finally {
      await admin.disconnect()
    }
    const run = await runDoctorCli(FAST, {
      ...good,
      CLASSIFIER_NAME: own,
      CLASSIFIER_OUTPUT_TOPIC: output,
    })
    expect(lineOf(run, 'kafka topics')).toBe(
      `✗ kafka topics: ${output}: partitions is 2, expected at least 6; ${dlq}: cleanup.policy is compact, expected delete` +
        ` — kafka-topics.sh --alter --topic ${output} --partitions 6; kafka-configs.sh --alter --entity-type topics --entity-name ${dlq} --add-config cleanup.policy=delete`,
    )
    expect(run.code).toBe(1)

    const missing = await runDoctorCli(FAST, { ...good, CLASSIFIER_NAME: `${own}-none` })
    expect(lineOf(missing, 'kafka topics')).toBe(
      `✗ kafka topics: wolkvox.${own}-none.dlq is missing — start the services once with KAFKA_CREATE_TOPICS=true (each provisions its topics), or create wolkvox.${own}-none.dlq as README: Production Kafka lists`,
    )
    expect(missing.code).toBe(1)
  })

  it('names each topic below KAFKA_REPLICATION_FACTOR or its min.insync.replicas, and the command that fixes it', async () => {
    const admin = kafka.admin()
    await admin.connect()
    let brokers: number
    const output = `${own}.insync`
    try {
      brokers = (await admin.describeCluster()).brokers.length
      // The classifier's output as provisioned, but for a topic-level min.insync.replicas high
      // enough for the configuration below: only its replication is short.
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: output,
            numPartitions: topics.chatTramite.partitions,
            configEntries: [
              { name: 'cleanup.policy', value: topics.chatTramite.cleanupPolicy },
              { name: 'max.message.bytes', value: String(topics.chatTramite.maxMessageBytes) },
              { name: 'min.insync.replicas', value: String(brokers + 1) },
            ],
          },
        ],
      })
    } finally {
      await admin.disconnect()
    }
    // One replica more than the cluster has brokers: no topic can have it. The topics provisioned
    // in beforeAll have one replica per broker and min.insync.replicas 1 (2 from three replicas).
    const wanted = brokers + 1
    const theirs = brokers >= 3 ? 2 : 1
    const run = await runDoctorCli(FAST, {
      ...good,
      CLASSIFIER_OUTPUT_TOPIC: output,
      KAFKA_REPLICATION_FACTOR: String(wanted),
      KAFKA_MIN_INSYNC_REPLICAS: String(wanted),
    })
    // In the order the doctor lists the deployment's topics.
    const names = [
      topics.chatMessage.name,
      topics.pollerCheckpoint.name,
      topics.pollerDlq.name,
      topics.agentSentiment.name,
      output,
      topics.chatTramite.name,
      topics.chatQuality.name,
      'wolkvox.sentiment-aggregator.dlq',
      'wolkvox.tramite-classifier.dlq',
      'wolkvox.chat-quality.dlq',
      'wolkvox.chat-quality-tramites.dlq',
    ]
    const problems = names.flatMap((t) => [
      `${t}: replication is ${brokers}, expected at least ${wanted}`,
      ...(t === output
        ? []
        : [`${t}: min.insync.replicas is ${theirs}, expected at least ${wanted}`]),
    ])
    const fixes = names.flatMap((t) => [
      `add replicas to ${t} (kafka-reassign-partitions.sh), or set KAFKA_REPLICATION_FACTOR to what it has`,
      ...(t === output
        ? []
        : [
            `kafka-configs.sh --alter --entity-type topics --entity-name ${t} --add-config min.insync.replicas=${wanted}`,
          ]),
    ])
    expect(lineOf(run, 'kafka topics')).toBe(
      `✗ kafka topics: ${problems.join('; ')} — ${fixes.join('; ')}`,
    )
    expect(run.code).toBe(1)

    // KAFKA_MIN_INSYNC_REPLICAS alone, above the replicas the topics have: no write with acks=all
    // could succeed on any of them (the services refuse to start). Each topic is named, and the fix
    // is replicas or a lower setting, not a higher min.insync.replicas.
    const above = await runDoctorCli(FAST, { ...good, KAFKA_MIN_INSYNC_REPLICAS: String(wanted) })
    const defaults = names.filter((t) => t !== output)
    expect(lineOf(above, 'kafka topics')).toBe(
      `✗ kafka topics: ${defaults.map((t) => `${t}: replication is ${brokers}, expected at least ${wanted} (KAFKA_MIN_INSYNC_REPLICAS)`).join('; ')}` +
        ` — ${defaults.map((t) => `add replicas to ${t} (kafka-reassign-partitions.sh), or lower KAFKA_MIN_INSYNC_REPLICAS to ${brokers}`).join('; ')}`,
    )
    expect(above.code).toBe(1)
  })

  it('fails on a Redis that refuses the password, never printing it', async () => {
    const redis = await startPasswordRedis('canary-right-redis-pw')
    try {
      const run = await runDoctorCli(FAST, {
        ...good,
        REDIS_URL: redis.url.replace('redis://', 'redis://:canary-wrong-redis-pw@'),
      })
      expect(lineOf(run, 'redis connection')).toBe(
        `✗ redis connection: REDIS_AUTH_FAILED: Redis refused the credentials (WRONGPASS): check REDIS_USERNAME, REDIS_PASSWORD_FILE or the user and password in REDIS_URL (${redis.url})` +
          ' — check REDIS_USERNAME and REDIS_PASSWORD_FILE (or the user and password in REDIS_URL) against the ACL user',
      )
      expect(lineOf(run, 'redis maxmemory-policy')).toBe(
        '- redis maxmemory-policy: not checked (no connection)',
      )
      expect(run.stdout).not.toContain('canary-wrong-redis-pw')
      expect(run.stdout).not.toContain('canary-right-redis-pw')
      expect(run.code).toBe(1)
    } finally {
      await redis.stop()
    }
  })

  it('fails on a Redis that does not answer, never printing its password', async () => {
    const port = await closedPort()
    const run = await runDoctorCli(FAST, {
      ...good,
      REDIS_URL: `redis://:canary-redis-pw@127.0.0.1:${port}`,
    })
    expect(lineOf(run, 'redis connection')).toBe(
      `✗ redis connection: REDIS_UNAVAILABLE: Redis not ready within 2000ms: connect ECONNREFUSED 127.0.0.1:${port} (redis://127.0.0.1:${port})` +
        ` — check that REDIS_URL (redis://127.0.0.1:${port}) names a running Redis reachable from here`,
    )
    expect(lineOf(run, 'redis maxmemory-policy')).toBe(
      '- redis maxmemory-policy: not checked (no connection)',
    )
    expect(run.stdout).not.toContain('canary-redis-pw')
    expect(run.code).toBe(1)
  })

  it('fails on a Redis that may evict keys (maxmemory-policy allkeys-lru)', async () => {
    const evicting = await startEvictingRedis()
    try {
      const run = await runDoctorCli(FAST, { ...good, REDIS_URL: evicting.url })
      expect(lineOf(run, 'redis connection')).toMatch(/^✓ redis connection/u)
      expect(lineOf(run, 'redis maxmemory-policy')).toBe(
        "✗ redis maxmemory-policy: is allkeys-lru: Redis may evict the product's state (a lost key is lost state, not a cache miss) — CONFIG SET maxmemory-policy noeviction, and set it in redis.conf (README: Production Redis)",
      )
      expect(run.code).toBe(1)
    } finally {
      await evicting.stop()
    }
  })

  it('fails on a schema registry that does not answer', async () => {
    const port = await closedPort()
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`
    const run = await runDoctorCli(FAST, { ...good, SCHEMA_REGISTRY_URL: url })
    expect(lineOf(run, 'schema registry')).toBe(
      `✗ schema registry: SCHEMA_REGISTRY_UNAVAILABLE: the schema registry at ${url} did not answer (ECONNREFUSED)` +
        " — check SCHEMA_REGISTRY_URL (the Confluent-compatible API's base, e.g. http://host:8080/apis/ccompat/v7), or unset it for single-object encoding",
    )
    expect(lineOf(run, 'schema registry subjects')).toBe(
      '- schema registry subjects: not checked (no registry)',
    )
    expect(run.code).toBe(1)
  })

  it('fails on a Wolkvox URL whose port does not answer', async () => {
    const gone = await startSimulator({ tokens: [TOKEN] })
    const url = gone.url
    await gone.close()
    const run = await runDoctorCli(FAST, { ...good, WOLKVOX_BASE_URL: url })
    const host = url.replace('http://', '')
    expect(lineOf(run, `wolkvox ${server}`)).toBe(
      `✗ wolkvox ${server}: ${host} does not answer HTTP (ECONNREFUSED) — check WOLKVOX_BASE_URL (${url}): is the service there running?`,
    )
    expect(run.code).toBe(1)
  })

  it('fails on a Wolkvox host that does not resolve, naming DNS, with no report call', async () => {
    sim.clearCalls()
    // RFC 2606: .invalid never resolves.
    const url = 'https://wolkvox-doctor.invalid'
    const run = await runDoctorCli(FAST, { ...good, WOLKVOX_BASE_URL: url })
    // ENOTFOUND from a resolver; EAI_AGAIN where none answers at all.
    expect(lineOf(run, `wolkvox ${server}`)).toMatch(
      new RegExp(
        `^✗ wolkvox ${server}: wolkvox-doctor\\.invalid does not resolve \\(DNS lookup: (ENOTFOUND|EAI_AGAIN)\\)` +
          ` — check the host name in WOLKVOX_BASE_URL \\(https://wolkvox-doctor\\.invalid\\) and this machine's DNS$`,
        'u',
      ),
    )
    expect(run.stdout).not.toContain(TOKEN)
    expect(run.code).toBe(1)
    expect(sim.calls()).toHaveLength(0)
  })

  it('fails on an https:// Wolkvox URL whose port speaks plain HTTP, naming the TLS handshake', async () => {
    sim.clearCalls()
    // The simulator's own port: it answers HTTP, not TLS.
    const url = sim.url.replace('http://', 'https://')
    const run = await runDoctorCli(FAST, { ...good, WOLKVOX_BASE_URL: url })
    // The http server answers the ClientHello with a 400 in plain text: not a TLS record.
    expect(lineOf(run, `wolkvox ${server}`)).toBe(
      `✗ wolkvox ${server}: ${url.replace('https://', '')} does not answer TLS: the TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER)` +
        ` — check WOLKVOX_BASE_URL (${url}): an https:// URL must name a port that speaks TLS (this one does not; plain http is only for a loopback simulator)`,
    )
    expect(run.stderr).toBe('')
    expect(run.stdout).not.toContain(TOKEN)
    expect(run.code).toBe(1)
    expect(sim.calls()).toHaveLength(0)
  })

  it('fails on an invalid rules file, naming the problem and the file', async () => {
    const file = join(dir, 'bad-rules.json')
    writeFileSync(file, JSON.stringify({ version: '1', tramites: [] }))
    const run = await runDoctorCli(FAST, { ...good, CLASSIFIER_RULES_FILE: file })
    expect(lineOf(run, 'rules tramite-classifier')).toMatch(
      new RegExp(
        `^✗ rules tramite-classifier: TRAMITE_RULES_INVALID: .*tramites: must be a non-empty array of trámites.* — correct ${file} where each problem says, or point CLASSIFIER_RULES_FILE at a valid rules file$`,
        'u',
      ),
    )
    expect(lineOf(run, 'rules chat-quality')).toMatch(/^✓ rules chat-quality/u)
    expect(run.code).toBe(1)
  })

  it('fails on an unreadable HTTP token file and an unreadable dashboard upstream token file', async () => {
    const file = join(dir, 'no-such-tokens')
    // A folder: open succeeds, read does not (as root, a mode 000 file would still be read).
    const upstream = mkdtempSync(join(dir, 'upstream-'))
    const run = await runDoctorCli(FAST, {
      ...good,
      HTTP_AUTH_TOKEN_FILE: file,
      DASHBOARD_UPSTREAM_TOKEN_FILE: upstream,
    })
    expect(lineOf(run, 'http token file')).toBe(
      `✗ http token file: CONFIG_INVALID: Invalid configuration (1 problem): HTTP_AUTH_TOKEN_FILE: ${file} cannot be read` +
        ' — HTTP_AUTH_TOKEN_FILE: one token a line, at least 16 characters, in a file the service user can read (openssl rand -base64 32 > file; chmod 600 file; README: Security)',
    )
    // Every service reads it at start: each one's configuration fails too.
    expect(lineOf(run, 'config poller')).toMatch(
      /^✗ config poller: CONFIG_INVALID: .*HTTP_AUTH_TOKEN_FILE/u,
    )
    expect(lineOf(run, 'dashboard upstream token file')).toBe(
      `✗ dashboard upstream token file: DASHBOARD_UPSTREAM_TOKEN_FILE: ${upstream} cannot be read` +
        ' — DASHBOARD_UPSTREAM_TOKEN_FILE: one token a line, at least 16 characters, in a file the service user can read (openssl rand -base64 32 > file; chmod 600 file; README: Security)',
    )
    expect(run.code).toBe(1)
  })
})

describe('npm run doctor on a secured cluster (TLS, SCRAM-SHA-512, ACLs)', () => {
  let cluster: KafkaCluster
  let security: KafkaClusterSecurity
  let dir: string
  let base: Record<string, string>

  beforeAll(async () => {
    cluster = await startKafkaCluster({ nodes: 1, secure: true })
    security = cluster.security!
    dir = mkdtempSync(join(tmpdir(), 'doctor-secure-'))
    const port = await closedPort()
    // Only the Kafka lines are looked at here; the rest points nowhere, fast.
    base = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      WOLKVOX_SERVER: newServerCode(),
      WOLKVOX_TOKEN: TOKEN,
      WOLKVOX_BASE_URL: `http://127.0.0.1:${port}`,
    }
    await provisionTopics(createKafkaClient(security.connection('admin')), provisioned, {
      create: true,
      replicationFactor: 1,
    })
    // Every ACL of the product but the sentiment aggregator's dead-letter topic.
    const [poller, sentiment, ...rest] = productAcls()
    const dlq = dlqTopic('sentiment-aggregator').name
    await grantAcls(security.connection('admin'), [
      poller!,
      { ...sentiment!, grants: sentiment!.grants.filter((g) => g.name !== dlq) },
      ...rest,
    ])
  }, 240_000)

  afterAll(async () => {
    await cluster?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('names a principal lacking an ACL and the command that grants it, then passes once granted', async () => {
    const run = await runDoctorCli(FAST, { ...base, ...security.env('admin') })
    expect(lineOf(run, 'kafka connection')).toBe(
      `✓ kafka connection (1 broker at ${cluster.brokers}, TLS, SASL scram-sha-512 as admin)`,
    )
    expect(lineOf(run, 'kafka topics')).toBe('✓ kafka topics (10 topics as provisioned)')
    expect(lineOf(run, 'kafka acls')).toBe(
      '✗ kafka acls: User:sentiment-aggregator lacks CREATE, DESCRIBE, DESCRIBE_CONFIGS, WRITE on topic wolkvox.sentiment-aggregator.dlq' +
        ' — grant them (README: Production Kafka): kafka-acls.sh --add --allow-principal User:sentiment-aggregator --operation Create --operation Describe --operation DescribeConfigs --operation Write --topic wolkvox.sentiment-aggregator.dlq',
    )
    expect(run.code).toBe(1)

    await grantAcls(security.connection('admin'), [
      consumerServiceAcls({ name: 'sentiment-aggregator', outputs: [topics.agentSentiment.name] }),
    ])
    const granted = await runDoctorCli(FAST, { ...base, ...security.env('admin') })
    expect(lineOf(granted, 'kafka acls')).toBe(
      '✓ kafka acls (4 principals have what their services need)',
    )
  })

  it('says a service principal cannot verify the ACLs: a warning, not a pass', async () => {
    const run = await runDoctorCli(FAST, { ...base, ...security.env('poller') })
    expect(lineOf(run, 'kafka connection')).toMatch(/^✓ kafka connection \(.*as poller\)$/u)
    // The poller's principal sees only its own three topics.
    expect(lineOf(run, 'kafka topics')).toMatch(
      /^✗ kafka topics: wolkvox\.agent\.sentiment\.v1 is missing or not visible to poller; .* — .*; or run the doctor as a principal that may describe every topic \(poller sees only its own\)$/u,
    )
    expect(lineOf(run, 'kafka acls')).toBe(
      "! kafka acls: could not be checked: poller may not describe the cluster's ACLs — run the doctor with an administrator's KAFKA_SASL_USERNAME (DESCRIBE on the cluster) to verify the ACLs",
    )
    expect(run.code).toBe(1)
  })

  it('fails on a refused password and never prints it', async () => {
    const wrong = join(dir, 'wrong-password')
    writeFileSync(wrong, 'canary-wrong-kafka-password', { mode: 0o600 })
    const run = await runDoctorCli(FAST, {
      ...base,
      ...security.env('admin'),
      KAFKA_SASL_PASSWORD_FILE: wrong,
    })
    expect(lineOf(run, 'kafka connection')).toMatch(
      /^✗ kafka connection: KAFKA_AUTH_FAILED: .* — check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE \(or KAFKA_SASL_PASSWORD\) against the user on the cluster$/u,
    )
    expect(lineOf(run, 'kafka acls')).toBe('- kafka acls: not checked (no connection)')
    expect(run.stdout).not.toContain('canary-wrong-kafka-password')
    expect(run.code).toBe(1)
  })
})

describe('npm run doctor on a Redis Cluster with an ACL user', () => {
  let cluster: RedisCluster
  let base: Record<string, string>

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0, users: ['wcs'] })
    const port = await closedPort()
    // Only the Redis lines are looked at here; Kafka and Wolkvox point nowhere, fast.
    base = {
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      WOLKVOX_SERVER: newServerCode(),
      WOLKVOX_TOKEN: TOKEN,
      WOLKVOX_BASE_URL: `http://127.0.0.1:${port}`,
    }
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  it('checks every slot, and says an ACL user refused CONFIG GET could not verify the policy', async () => {
    const run = await runDoctorCli(FAST, { ...base, ...cluster.env('wcs') })
    expect(lineOf(run, 'redis connection')).toBe(
      `✓ redis connection (redis cluster ${cluster.seeds} as wcs, authenticated)`,
    )
    expect(lineOf(run, 'redis maxmemory-policy')).toBe(
      '! redis maxmemory-policy: could not be checked: the user wcs may not run CONFIG GET' +
        ' — ask whoever runs the Redis to confirm maxmemory-policy noeviction (README: Production Redis), or run the doctor as a user allowed CONFIG GET',
    )
    expect(lineOf(run, 'redis cluster slots')).toBe(
      '✓ redis cluster slots (all 16384 slots served by 3 masters)',
    )
    expect(run.stdout).not.toContain(cluster.password('wcs'))
    expect(run.code).toBe(1)

    const admin = await runDoctorCli(FAST, { ...base, ...cluster.env('admin') })
    expect(lineOf(admin, 'redis maxmemory-policy')).toBe(
      '✓ redis maxmemory-policy (noeviction on 3 nodes)',
    )
  })

  it('fails on a password the cluster refuses, never printing either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-redis-'))
    try {
      const wrong = join(dir, 'wrong-password')
      writeFileSync(wrong, 'canary-wrong-cluster-pw', { mode: 0o600 })
      const run = await runDoctorCli(FAST, {
        ...base,
        ...cluster.env('wcs'),
        REDIS_PASSWORD_FILE: wrong,
      })
      expect(lineOf(run, 'redis connection')).toBe(
        `✗ redis connection: REDIS_AUTH_FAILED: Redis refused the credentials (WRONGPASS): check REDIS_USERNAME, REDIS_PASSWORD_FILE or the user and password in REDIS_URL (redis cluster ${cluster.seeds} as wcs)` +
          ' — check REDIS_USERNAME and REDIS_PASSWORD_FILE (or the user and password in REDIS_URL) against the ACL user',
      )
      expect(lineOf(run, 'redis cluster slots')).toBe(
        '- redis cluster slots: not checked (no connection)',
      )
      expect(run.stdout).not.toContain('canary-wrong-cluster-pw')
      expect(run.stdout).not.toContain(cluster.password('wcs'))
      expect(run.code).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  // Last of this describe: the cluster is down (cluster_state:fail) until its slots are back.
  it('names the slots no master serves', async () => {
    const [first] = cluster.nodes
    // Every node forgets 0-99 (CLUSTER DELSLOTS is not gossiped): no node's view has them.
    for (const node of cluster.nodes) await node.command('CLUSTER', 'DELSLOTSRANGE', '0', '99')
    try {
      const run = await runDoctorCli(FAST, { ...base, ...cluster.env('admin') })
      // Down, the cluster never becomes ready for a client: its nodes are asked why.
      const view = `cluster_state:fail in the view of 127.0.0.1:${first!.port}`
      expect(lineOf(run, 'redis connection')).toBe(
        `✗ redis connection: REDIS_UNAVAILABLE: the nodes of redis cluster ${cluster.seeds} as admin answer, but the cluster is down (${view})` +
          ' — fix its slots first (see redis cluster slots): a cluster missing a slot refuses every command',
      )
      expect(lineOf(run, 'redis maxmemory-policy')).toBe(
        '- redis maxmemory-policy: not checked (no connection)',
      )
      expect(lineOf(run, 'redis cluster slots')).toBe(
        `✗ redis cluster slots: 100 of 16384 slots are not served: 0-99 (${view})` +
          ' — assign the missing slots (redis-cli --cluster fix <host:port>) or bring their master back',
      )
      expect(run.stdout).not.toContain(cluster.password('admin'))
      expect(run.code).toBe(1)
    } finally {
      await first!.command('CLUSTER', 'ADDSLOTSRANGE', '0', '99')
      await cluster.waitHealthy()
    }
  })
})

describe('npm run doctor with a schema registry (Apicurio)', () => {
  let registry: SchemaRegistry
  let base: Record<string, string>
  // The registry check asks the registry six times in a row: a JVM just started (and a loaded
  // machine) needs more than FAST's bound for that; the bound is not what is tested here.
  const SLOW = ['--timeout', '15000']
  const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

  /** A Confluent API write, as a service (or an operator) makes it. */
  const put = async (method: 'POST' | 'PUT', path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${registry.ccompatUrl}${path}`, {
      method,
      headers: { accept: CONTENT_TYPE, 'content-type': CONTENT_TYPE },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    expect(response.status, await response.text()).toBe(200)
  }

  beforeAll(async () => {
    const started = Date.now()
    // Its start is most of this describe's time (a Quarkus JVM: about a minute on a loaded machine).
    registry = await startSchemaRegistry({ readyTimeoutMs: 300_000 })
    process.stderr.write(
      `[doctor] schema registry ready in ${registry.readyMs} ms (${Date.now() - started} ms in all)\n`,
    )
    const port = await closedPort()
    // Only the registry lines are looked at here. The run's Kafka and Redis answer at once (a
    // closed port would be retried for the whole of SLOW's bound); Wolkvox points nowhere.
    base = {
      KAFKA_BROKERS: kafkaBrokers,
      REDIS_URL: redisUrl,
      WOLKVOX_SERVER: newServerCode(),
      WOLKVOX_TOKEN: TOKEN,
      WOLKVOX_BASE_URL: `http://127.0.0.1:${port}`,
      SCHEMA_REGISTRY_URL: registry.ccompatUrl,
    }
  }, 360_000)

  afterAll(async () => {
    await registry?.stop()
  }, 60_000)

  it('passes a subject the product writes compatibly, then names one it does not', async () => {
    const message = `${topics.chatMessage.name}-value`
    // What the poller registers at start: the ChatMessage it writes (v2 by default).
    await put('POST', `/subjects/${message}/versions`, {
      schema: JSON.stringify(chatMessageCodec.schemas.get(2)),
    })
    const run = await runDoctorCli(SLOW, base)
    expect(lineOf(run, 'schema registry')).toBe(
      `✓ schema registry (${registry.ccompatUrl}, 1 subjects)`,
    )
    expect(lineOf(run, 'schema registry subjects')).toBe(
      '✓ schema registry subjects (1 registered subjects compatible)',
    )

    // The sentiment subject under BACKWARD, its latest version a record the product's
    // AgentSentiment v2 cannot read (none of its fields, no defaults).
    const sentiment = `${topics.agentSentiment.name}-value`
    await put('PUT', `/config/${sentiment}`, { compatibility: 'BACKWARD' })
    await put('POST', `/subjects/${sentiment}/versions`, {
      schema: JSON.stringify({
        type: 'record',
        name: 'AgentSentiment',
        namespace: 'com.wolkvoxchatstream',
        fields: [{ name: 'unrelated', type: 'int' }],
      }),
    })
    const bad = await runDoctorCli(SLOW, base)
    expect(lineOf(bad, 'schema registry')).toBe(
      `✓ schema registry (${registry.ccompatUrl}, 2 subjects)`,
    )
    expect(lineOf(bad, 'schema registry subjects')).toBe(
      `✗ schema registry subjects: ${sentiment}: AgentSentiment v2 is not compatible with its latest version` +
        " — readers first: keep writing the version the subject's compatibility accepts (POLL_CHAT_MESSAGE_VERSION, SENTIMENT_AGENT_SENTIMENT_VERSION), or fix the subject's compatibility setting (README: Registry mode)",
    )
    expect(bad.code).toBe(1)
  })
})
