/**
 * Whether `value` nests arrays and objects more than `levels` deep (itself being level 1). Any
 * depth is safe to ask about: the walk keeps its own stack, where `JSON.stringify` and recursive
 * readers overflow the call stack near 4,000 levels (a 10 KB body reaches that). The Wolkvox client
 * and the event builder refuse what is deeper than they read.
 */
export function nestedDeeperThan(value: unknown, levels: number): boolean {
  const pending: unknown[] = [value]
  const depths: number[] = [1]
  while (pending.length > 0) {
    const node = pending.pop()
    const depth = depths.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth > levels) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
