/*
 * `npm run docs`: rewrites the generated parts of README.md from the code: the error code table and
 * the ACLs of the product's principals. Tests fail when README.md is out of step, so run this after
 * adding an error code or changing an ACL.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { productAcls, renderAclTable } from '@wolkvox-chat-stream/dev-stack'
import { renderErrorCodeTable } from '@wolkvox-chat-stream/errors'

const readme = fileURLToPath(new URL('../README.md', import.meta.url))
let text = readFileSync(readme, 'utf8')
const sections: [name: string, render: () => string][] = [
  ['error-codes', renderErrorCodeTable],
  ['kafka-acls', () => renderAclTable(productAcls())],
]
for (const [name, render] of sections) {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const [before, rest] = text.split(start)
  const after = rest?.split(end)[1]
  if (before === undefined || after === undefined)
    throw new Error(`README.md lacks the ${start} … ${end} markers`)
  text = `${before}${start}\n${render()}\n${end}${after}`
}
writeFileSync(readme, text)
process.stderr.write(`README.md updated: ${sections.map(([name]) => name).join(', ')}\n`)
