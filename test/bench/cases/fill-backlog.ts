/*
 * Produces the drain backlog (drain-input.ts) in a process of its own, before the rows that read
 * it, so that no consuming case's peak RSS includes producing it.
 * Env: BENCH_KAFKA_BROKERS, BENCH_EVENTS.
 */
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { numberFromEnv, reportResult } from '../case-support.js'
import { ensureDrainInput } from '../drain-input.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)
const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'bench-fill' })
const started = performance.now()
await ensureDrainInput(
  kafka,
  count,
  (line) => void process.stderr.write(`  [fill-backlog] ${line}\n`),
)
reportResult({ items: count, durationMs: performance.now() - started })
