/*
 * `npm run docs`: rewrites the generated parts of README.md (the error code table) from the code.
 * A test fails when README.md is out of step, so run this after adding an error code.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderErrorCodeTable } from '@wolkvox-chat-stream/errors'

const readme = fileURLToPath(new URL('../README.md', import.meta.url))
const text = readFileSync(readme, 'utf8')
const start = '<!-- error-codes:start -->'
const end = '<!-- error-codes:end -->'
const [before, rest] = text.split(start)
const after = rest?.split(end)[1]
if (before === undefined || after === undefined)
  throw new Error(`README.md lacks the ${start} … ${end} markers`)
writeFileSync(readme, `${before}${start}\n${renderErrorCodeTable()}\n${end}${after}`)
process.stderr.write('README.md error code table updated\n')
