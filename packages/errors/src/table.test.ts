import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { errorCodes } from './codes.js'
import { renderErrorCodeTable } from './table.js'

describe('the README error code table', () => {
  it('lists exactly the registry (run `npm run docs` after adding a code)', () => {
    const readme = readFileSync(
      fileURLToPath(new URL('../../../README.md', import.meta.url)),
      'utf8',
    )
    const between = readme
      .split('<!-- error-codes:start -->')[1]
      ?.split('<!-- error-codes:end -->')[0]
    // Prettier pads Markdown tables; compare cells, not spacing.
    const cells = (table: string | undefined): string =>
      (table ?? '')
        .trim()
        .replace(/ *\| */g, '|')
        .replace(/-{3,}/g, '---')
    expect(cells(between)).toBe(cells(renderErrorCodeTable()))
  })

  it('has a summary for every code', () => {
    for (const [code, { summary }] of Object.entries(errorCodes)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/)
      expect(summary.length).toBeGreaterThan(10)
    }
  })
})
