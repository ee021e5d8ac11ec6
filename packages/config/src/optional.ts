/**
 * `{ [key]: value }`, or nothing when `value` is undefined: an optional field spread into a config
 * object without writing `undefined` (exactOptionalPropertyTypes).
 */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}
