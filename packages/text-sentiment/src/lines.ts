import { scoreText } from './score.js'

/** Rounds to 3 decimals, without `-0`. */
const round3 = (n: number): number => Math.round(n * 1000) / 1000 || 0

/**
 * The output line of `npm run sentiment -- score` for one input line: compact JSON
 * `{"text","sentiment","score"}`, score rounded to 3 decimals, no newline. A trailing `\r` (a
 * file with Windows line ends) is not part of the text.
 */
export function scoreLine(line: string): string {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line
  const { sentiment, score } = scoreText(text)
  return JSON.stringify({ text, sentiment, score: round3(score) })
}

/**
 * {@link scoreLine} over a whole input: one output line per input line, an empty line included
 * (so output line n answers input line n); the newline that ends the input adds no line.
 */
export function scoreLines(input: string): string[] {
  if (input === '') return []
  const lines = input.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines.map(scoreLine)
}
