import { errorCodes } from './codes.js'

/** The Markdown table of every error code, as the README shows it. */
export function renderErrorCodeTable(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, { retriable, summary }]) =>
      `| \`${code}\` | ${retriable ? 'yes' : 'no'} | ${summary} |`,
  )
  return ['| code | retriable | meaning |', '|---|---|---|', ...rows].join('\n')
}
