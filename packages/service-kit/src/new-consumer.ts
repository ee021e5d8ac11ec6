/*
 * `npm run new:consumer -- <name> [--services-dir DIR]`: scaffolds a working consumer service under
 * services/<name>/ (see scaffold.ts), then prints the next steps.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AppError } from '@wolkvox-chat-stream/errors'
import { scaffoldConsumerService } from './scaffold.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
try {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { 'services-dir': { type: 'string' } },
  })
  const [name, ...rest] = positionals
  if (name === undefined || rest.length > 0) {
    throw new AppError(
      'CONSUMER_COMMAND_INVALID',
      'usage: npm run new:consumer -- <name> [--services-dir DIR]',
    )
  }
  const servicesDir = resolve(values['services-dir'] ?? `${root}services`)
  const files = scaffoldConsumerService({ name, servicesDir, rootDir: root })
  process.stdout.write(
    [
      `Created ${servicesDir}/${name}/ (${files.length} files). Next:`,
      '  npm install  (links the new workspace)',
      `  npx vitest run --project unit services/${name}  (its unit test)`,
      `  KAFKA_BROKERS=… REDIS_URL=… npm run start -w @wolkvox-chat-stream/${name}`,
      'Then edit src/service.ts; the guide is packages/service-kit/README.md.',
      '',
    ].join('\n'),
  )
} catch (error) {
  const code = error instanceof AppError ? error.code : 'ERROR'
  process.stderr.write(`${code}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
