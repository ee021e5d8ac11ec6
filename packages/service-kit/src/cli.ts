/*
 * `npm run consumer -- <command> <name>`: the operator's commands for consumer services.
 *   dlq list <name>                what wolkvox.<name>.dlq holds, each origin once, by error code,
 *                                  and what is pending
 *   dlq show <name> [--limit N] [--full]   its records as JSON lines (values base64, cut unless --full)
 *   dlq redrive <name>             sends pending dead letters back to their original topic, marked
 *                                  for <name> only (README: Dead letters and redrives)
 *   rebuild <name>                 makes every instance rebuild its state from the input topic
 * Reads KAFKA_* and (for rebuild) REDIS_URL like the services do. A name that is no known service
 * (no dead-letter topic for dlq, no state in Redis for rebuild) is CONSUMER_SERVICE_UNKNOWN, exit 1.
 */
import { parseArgs } from 'node:util'
import { readConfig } from '@wolkvox-chat-stream/config'
import { AppError, serializeError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient, readKafkaSettings } from '@wolkvox-chat-stream/kafka'
import {
  createRedis,
  describeRedis,
  readRedisTarget,
  waitUntilReady,
} from '@wolkvox-chat-stream/redis'
import { assertServiceName, serviceKeys } from './keys.js'
import {
  assertKnownService,
  readDeadLetters,
  redriveDeadLetters,
  requestRebuild,
  servicesInRedis,
  servicesWithDeadLetterTopics,
  summarizeDeadLetters,
} from './operator.js'

const USAGE = `usage: npm run consumer -- dlq list <name>
       npm run consumer -- dlq show <name> [--limit N] [--full]
       npm run consumer -- dlq redrive <name>
       npm run consumer -- rebuild <name>
environment: KAFKA_BROKERS (and the other KAFKA_* variables), REDIS_URL for rebuild`

const print = (line: string): void => void process.stdout.write(`${line}\n`)

function usage(problem: string): never {
  throw new AppError('CONSUMER_COMMAND_INVALID', `${problem}\n${USAGE}`)
}

const PREVIEW_BYTES = 512

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { limit: { type: 'string' }, full: { type: 'boolean', default: false } },
  })
  const [command, second, third] = positionals
  const target = command === 'dlq' ? third : second
  if (command !== 'dlq' && command !== 'rebuild') usage(`unknown command ${command ?? '(none)'}`)
  if (command === 'dlq' && !['list', 'show', 'redrive'].includes(second ?? ''))
    usage(`unknown dlq command ${second ?? '(none)'}`)
  if (target === undefined) usage('the consumer service name is missing')
  const name = assertServiceName(target)
  const config = readConfig(process.env, (r) => ({
    kafka: readKafkaSettings(r, 'wolkvox-consumer-cli'),
    redis: readRedisTarget(r),
  }))

  if (command === 'rebuild') {
    const redis = createRedis(config.redis, { name: 'consumer-cli' })
    try {
      await waitUntilReady(redis)
      assertKnownService(name, await servicesInRedis(redis))
      const existed = await requestRebuild(redis, name)
      print(
        `${existed ? 'Deleted' : 'No'} ${serviceKeys(name).epoch} on ${describeRedis(config.redis)}. ` +
          `Running instances of ${name} notice within CONSUMER_EPOCH_CHECK_INTERVAL (5s by default), ` +
          `wipe their partitions' state and replay the input from the beginning (/readyz answers 503 ` +
          `until done); stopped instances do so when they start.`,
      )
    } finally {
      await redis.quit().catch(() => redis.disconnect())
    }
    return
  }

  const kafka = createKafkaClient({ ...config.kafka })
  assertKnownService(name, await servicesWithDeadLetterTopics(kafka))
  if (second === 'list') {
    const summary = await summarizeDeadLetters(kafka, name)
    print(
      `${summary.topic}: ${summary.deadLetters} dead letters (${summary.records} records; a record dead-lettered again by a replay counts once), ${summary.pending} not redriven`,
    )
    for (const [code, count] of Object.entries(summary.byCode).sort((a, b) => b[1] - a[1]))
      print(`  ${code}: ${count}`)
    return
  }
  if (second === 'show') {
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0))
      usage('--limit must be a positive whole number')
    const letters = await readDeadLetters(kafka, name, limit === undefined ? {} : { limit })
    for (const letter of letters) {
      const value = letter.value ?? Buffer.alloc(0)
      const shown = values.full ? value : value.subarray(0, PREVIEW_BYTES)
      print(
        JSON.stringify({
          dlqOffset: letter.offset,
          topic: letter.topic,
          partition: letter.partition,
          offset: letter.originalOffset,
          errorCode: letter.errorCode,
          errorMessage: letter.errorMessage,
          key: letter.key?.toString('utf8') ?? null,
          valueBytes: value.length,
          valueBase64: shown.toString('base64'),
          ...(shown.length < value.length ? { valueCut: true } : {}),
        }),
      )
    }
    return
  }
  const result = await redriveDeadLetters(kafka, name)
  print(
    `${result.topic}: ${result.redriven} dead letters redriven for ${name} only${result.repeated > 0 ? `, ${result.repeated} repeated records of the same origins passed over` : ''}${result.skipped > 0 ? `, ${result.skipped} without dlq.topic passed over` : ''}`,
  )
  for (const [topic, count] of Object.entries(result.byTarget))
    print(`  -> ${topic}: ${count} (header dlq.redrive.for=${name}: other services pass them over)`)
}

try {
  await main(process.argv.slice(2))
} catch (error) {
  const code = error instanceof AppError ? error.code : 'ERROR'
  process.stderr.write(
    `${code}: ${error instanceof Error ? error.message : String(error)}\n${
      error instanceof AppError && error.code === 'CONSUMER_COMMAND_INVALID'
        ? ''
        : `${JSON.stringify(serializeError(error))}\n`
    }`,
  )
  process.exitCode = 1
}
