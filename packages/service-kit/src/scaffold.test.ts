import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { scaffoldConsumerService } from './scaffold.js'

describe('scaffoldConsumerService', () => {
  const root = mkdtempSync(join(tmpdir(), 'scaffold-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('writes a package with a handler, a route, main.ts and a test', () => {
    const files = scaffoldConsumerService({
      name: 'first-response-time',
      servicesDir: join(root, 'services'),
      rootDir: root,
    })
    expect(files.map((f) => f.slice(root.length + 1)).sort()).toEqual(
      [
        'README.md',
        'package.json',
        'src/index.ts',
        'src/main.ts',
        'src/service.test.ts',
        'src/service.ts',
        'tsconfig.build.json',
        'tsconfig.json',
      ].map((f) => `services/first-response-time/${f}`),
    )
    const dir = join(root, 'services/first-response-time')
    expect(JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'))).toEqual({
      extends: '../../tsconfig.base.json',
      include: ['src'],
    })
    const service = readFileSync(join(dir, 'src/service.ts'), 'utf8')
    expect(service).toContain("name: 'first-response-time'")
    expect(service).toContain('export function createFirstResponseTimeService(')
  })

  it('refuses an existing folder and a bad name', () => {
    const options = { servicesDir: join(root, 'services'), rootDir: root }
    expect(() => scaffoldConsumerService({ ...options, name: 'first-response-time' })).toThrow(
      expect.objectContaining({ code: 'CONSUMER_COMMAND_INVALID' }),
    )
    expect(() => scaffoldConsumerService({ ...options, name: 'Bad_Name' })).toThrow(
      expect.objectContaining({ code: 'CONSUMER_OPTIONS_INVALID' }),
    )
  })
})
