/*
 * The producer ceiling (QUALITY.md): Kafka's own Java producer perf tool,
 * org.apache.kafka.tools.ProducerPerformance from the kafka-tools jar the dev stack fetches with
 * the broker, on the same private broker, with the poller's producer settings (acks=all,
 * idempotent, gzip). Quoted next to the poller's figure; not a ratio target.
 * Env: BENCH_KAFKA_BROKERS, BENCH_KAFKA_VERSION, BENCH_RECORDS (200000), BENCH_RECORD_BYTES (300).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { devStackHome, ensureKafkaJars, kafkaVersionFromEnv } from '@wolkvox-chat-stream/dev-stack'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { numberFromEnv, reportResult } from '../case-support.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const records = numberFromEnv('BENCH_RECORDS', 200_000)
const recordBytes = numberFromEnv('BENCH_RECORD_BYTES', 300)
const version = process.env.BENCH_KAFKA_VERSION ?? kafkaVersionFromEnv()

const libs = await ensureKafkaJars({ home: devStackHome(), version })
const topic = `bench-producer-perf-${randomBytes(3).toString('hex')}`
const admin = createKafkaClient({ brokers: brokers.split(','), clientId: 'bench-perf' }).admin()
await admin.connect()
await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] })
await new Promise((resolve) => setTimeout(resolve, 1_000))

const args = [
  '-Xmx512m',
  '-cp',
  join(libs, '*'),
  'org.apache.kafka.tools.ProducerPerformance',
  ...['--topic', topic, '--num-records', String(records), '--record-size', String(recordBytes)],
  ...['--throughput', '-1', '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all'],
  ...['enable.idempotence=true', 'compression.type=gzip', 'linger.ms=5', 'batch.size=262144'],
]
// The JVM's peak resident memory, from /proc while it runs (the row's memory is the tool's).
let peakRssBytes = 0
const output = await new Promise<string>((resolve, reject) => {
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const sampler = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/u.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (hwm) peakRssBytes = Math.max(peakRssBytes, Number(hwm[1]) * 1024)
    } catch {
      // the process has just ended
    }
  }, 100)
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.on('error', reject)
  child.on('close', (code) => {
    clearInterval(sampler)
    if (code === 0) resolve(text)
    else reject(new Error(`ProducerPerformance exited ${code}:\n${text}`))
  })
})
await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
await admin.disconnect()

// The summary line: "60000 records sent, 81743.8 records/sec (23.39 MB/sec), … avg latency, …".
const summary = /(\d+) records sent, ([\d.]+) records\/sec/u.exec(
  output.split('\n').reverse().join('\n'),
)
if (summary === null) throw new Error(`No summary line in ProducerPerformance's output:\n${output}`)
const sent = Number(summary[1])
reportResult({ items: sent, durationMs: (sent / Number(summary[2])) * 1000, peakRssBytes })
