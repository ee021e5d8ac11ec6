import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import { assertServiceName } from './keys.js'

/** Options for {@link scaffoldConsumerService}. */
export interface ScaffoldOptions {
  /** The service name: lower case, a letter first (it becomes the group and the DLQ prefix). */
  name: string
  /** Where the service folder goes (`<repo>/services`). */
  servicesDir: string
  /** The repository root, for the tsconfig `extends` path. */
  rootDir: string
  /** Default 8090. */
  httpPort?: number
}

const pascal = (name: string): string =>
  name
    .split('-')
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')

/**
 * Writes a working consumer service under `<servicesDir>/<name>/`: a package, a handler that
 * counts chat messages by sentiment and sender, a `/counts` route, `main.ts` and a unit test.
 * Returns the files written.
 *
 * @throws AppError `CONSUMER_OPTIONS_INVALID` for a bad name, `CONSUMER_COMMAND_INVALID` when the
 * folder exists.
 */
export function scaffoldConsumerService(options: ScaffoldOptions): string[] {
  const name = assertServiceName(options.name)
  const dir = join(options.servicesDir, name)
  if (existsSync(dir)) {
    throw new AppError('CONSUMER_COMMAND_INVALID', `${dir} exists already; pick another name`)
  }
  const Name = pascal(name)
  const base = relative(dir, join(options.rootDir, 'tsconfig.base.json')).split('\\').join('/')
  const port = options.httpPort ?? 8090
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: `@wolkvox-chat-stream/${name}`,
        version: '0.1.0',
        private: true,
        description: `Consumer service ${name}: counts chat messages by sentiment and sender (scaffolded by npm run new:consumer).`,
        type: 'module',
        exports: {
          '.': { source: './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
        },
        scripts: {
          build: 'tsc -p tsconfig.build.json',
          typecheck: 'tsc --noEmit -p tsconfig.json',
          lint: 'eslint --max-warnings=0 .',
          start: 'tsx --conditions=source src/main.ts',
        },
        dependencies: {
          '@wolkvox-chat-stream/errors': '*',
          '@wolkvox-chat-stream/events': '*',
          '@wolkvox-chat-stream/service-kit': '*',
        },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify({ extends: base, include: ['src'] }, null, 2)}\n`,
    'tsconfig.build.json': `${JSON.stringify(
      {
        extends: './tsconfig.json',
        compilerOptions: { customConditions: [], rootDir: 'src', outDir: 'dist' },
        exclude: ['src/**/*.test.ts'],
      },
      null,
      2,
    )}\n`,
    'README.md': `# ${name}

A consumer service built on \`@wolkvox-chat-stream/service-kit\` (see its README, "Write a new
consumer service"). It reads \`wolkvox.chat.message.v1\` in the consumer group \`${name}\` and counts
messages by sentiment and sender; dead letters go to \`wolkvox.${name}.dlq\`.

\`\`\`sh
npm run start -w @wolkvox-chat-stream/${name}   # KAFKA_BROKERS, REDIS_URL, HTTP_PORT (${port})
curl localhost:${port}/counts                   # {"total":…,"sentiment.neutral":…,"sender.agent":…}
npm run consumer -- dlq list ${name}
\`\`\`

Edit \`src/service.ts\`: \`handle\` says what one event changes, through \`ctx.state\`.
`,
    'src/index.ts': `export { create${Name}Service, handle } from './service.js'\n`,
    'src/service.ts': `import { type ChatMessage, topics } from '@wolkvox-chat-stream/events'
import {
  createConsumerService,
  sendJson,
  type ConsumerService,
  type ConsumerServiceOptions,
  type EventContext,
} from '@wolkvox-chat-stream/service-kit'

/**
 * What one chat message changes: counters by sentiment and sender. The kit applies them with the
 * partition's offset, once per event_id, and merges the partitions when the route reads them.
 */
export function handle(event: ChatMessage, ctx: EventContext): void {
  ctx.state.hincrby('messages', 'total')
  ctx.state.hincrby('messages', \`sentiment.\${event.sentiment}\`)
  ctx.state.hincrby('messages', \`sender.\${event.sender}\`)
}

/** The ${name} service; \`overrides\` are for tests (env, config, logger). */
export function create${Name}Service(
  overrides: Pick<ConsumerServiceOptions<ChatMessage>, 'env' | 'config' | 'logger'> = {},
): ConsumerService {
  return createConsumerService({
    name: '${name}',
    input: topics.chatMessage,
    httpPort: ${port},
    handle,
    routes: async (req, res, kit) => {
      if (req.method !== 'GET' || req.url !== '/counts') return false
      sendJson(res, 200, await kit.state.sumHash('messages'))
      return true
    },
    ...overrides,
  })
}
`,
    'src/main.ts': `import { runService } from '@wolkvox-chat-stream/service-kit'
import { create${Name}Service } from './service.js'

await runService(() => create${Name}Service())
`,
    'src/service.test.ts': `import { describe, expect, it } from 'vitest'
import { buildChatMessages } from '@wolkvox-chat-stream/events'
import { createTestContext } from '@wolkvox-chat-stream/service-kit'
import { handle } from './service.js'

const chat = {
  conn_id: 'c-1',
  agent_name: 'Ana',
  customer_name: 'Zoë',
  conversation: [
    {
      channel: 'web',
      from: 'CUSTOMER',
      from_name: 'Zoë',
      to_name: 'Ana',
      date: '2025-02-11 10:00:00',
      message: 'hola',
      customer_id: '1',
      feeling: 'Very Negative',
    },
  ],
}

describe('${name}', () => {
  it('counts a message by sentiment and sender', () => {
    const [event] = buildChatMessages(chat, {
      server: '0010',
      zone: 'America/Bogota',
      window: { start: new Date(0), end: new Date(0) },
      polledAt: new Date(0),
    }).events
    const { ctx, ops } = createTestContext()
    handle(event!, ctx)
    expect(ops).toEqual([
      { command: 'HINCRBY', keys: ['messages'], args: ['total', '1'] },
      { command: 'HINCRBY', keys: ['messages'], args: ['sentiment.very_negative', '1'] },
      { command: 'HINCRBY', keys: ['messages'], args: ['sender.customer', '1'] },
    ])
  })
})
`,
  }
  const written: string[] = []
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
    written.push(path)
  }
  return written
}
