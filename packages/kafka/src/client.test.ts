import { describe, expect, it } from 'vitest'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { kafkaLogToLogger } from './client.js'

describe('kafkajs logs', () => {
  it('are routed to the project logger with their namespace and fields', () => {
    const lines: string[] = []
    const logger = createLogger({
      name: 'test',
      level: 'debug',
      stream: { write: (l) => lines.push(l) },
    })
    kafkaLogToLogger(logger)({
      level: 'warn',
      namespace: 'Connection',
      message: 'Response Metadata',
      fields: { broker: '127.0.0.1:9092' },
    })
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      name: 'test',
      msg: 'kafka: Response Metadata',
      kafkaNamespace: 'Connection',
      broker: '127.0.0.1:9092',
    })
  })
})
