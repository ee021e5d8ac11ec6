/*
 * The toy consumer in its own process, for the kill test.
 * argv: <brokers> <redisUrl> <topic> <name> <eventsPerScript>
 * Prints {"event":"stored",...} after the first chunk's state is stored in Redis and, before its
 * offset can be committed, kills itself with SIGKILL.
 */
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createToyCounter } from './toy-counter.js'

const [brokers, redisUrl, topic, name, perScript] = process.argv.slice(2)
const print = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`)
const service = createToyCounter({
  name: name!,
  input: topic!,
  brokers: brokers!,
  redisUrl: redisUrl!,
  maxEventsPerScript: Number(perScript),
  logger: createLogger({ name: name!, level: 'warn', stream: process.stderr }),
  hooks: {
    afterStateStored(info) {
      print({ event: 'stored', ...info })
      process.kill(process.pid, 'SIGKILL')
    },
  },
})
await service.start()
print({ event: 'started' })
