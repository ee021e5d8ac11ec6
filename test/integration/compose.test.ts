import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DEFAULT_KAFKA_VERSION } from '@wolkvox-chat-stream/dev-stack'

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
