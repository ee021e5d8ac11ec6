import { createServer, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { checkRegistry } from './registry-checks.js'
import type { ServiceNames } from './configs.js'

const names: ServiceNames = {
  sentiment: 'sentiment-aggregator',
  classifier: 'tramite-classifier',
  quality: 'chat-quality',
  classifierOutput: 'wolkvox.chat.tramite.v1',
  qualityOutput: 'wolkvox.chat.quality.v1',
  qualityTramites: 'wolkvox.chat.tramite.v1',
  chatMessageVersion: 2,
  sentimentVersion: 2,
}

let server: Server | undefined
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
)

/**
 * A registry answering as Apicurio's ccompat API does: `GET /subjects` lists `subjects`, and every
 * compatibility question is answered 200 `{is_compatible: true}`, for a subject it lacks too.
 */
async function apicurioLike(subjects: string[]): Promise<string> {
  const own = createServer((req, res) => {
    res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json')
    res.end(JSON.stringify(req.url === '/subjects' ? subjects : { is_compatible: true }))
  })
  server = own
  await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(own.address() as { port: number }).port}`
}

describe('checkRegistry', () => {
  it('counts as registered only the subjects the registry lists', async () => {
    const url = await apicurioLike(['wolkvox.chat.message.v1-value', 'someone-else-value'])
    const results = await checkRegistry({ url }, names, 2_000)
    expect(results.map((r) => [r.check, r.status, r.detail])).toEqual([
      ['schema registry', 'pass', `${url}, 2 subjects`],
      ['schema registry subjects', 'pass', '1 registered subjects compatible'],
    ])
  })
})
