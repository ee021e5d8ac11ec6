/*
 * The chaos run's fault schedule (issue 23), drawn from a seed: the same seed and settings give
 * the same schedule, so a run that found a violation is replayed by its seed. Pure: the run
 * (chaos.test.ts) carries it out.
 *
 * Faults start at random times over the chaos span and last a random while, so they overlap
 * (a poller killed while a broker is down and the upstream answers 429). Two rules keep each
 * fault meaningful: one target takes one fault at a time (a paused process is not also killed),
 * and at most one Kafka node is down at a time on a cluster (two of three would be below
 * min.insync.replicas: a stall by configuration, not a fault the product can ride through).
 */

/** A service process of the run: `poller-1`, `sentiment-2`, … */
export type ProcessName = `${'poller' | 'sentiment' | 'classifier' | 'quality'}-${1 | 2}`

/** The upstream's misbehaviours the chaos uses (the simulator's fault kinds). */
export type UpstreamMode = 'server-error' | 'rate-limited' | 'slow' | 'truncated' | 'disconnect'

/** One fault of the schedule. `atMs` is from the start of the chaos span. */
export type Fault =
  | { kind: 'kill'; atMs: number; target: ProcessName; downMs: number }
  | { kind: 'pause'; atMs: number; target: ProcessName; downMs: number }
  | { kind: 'broker-kill'; atMs: number; node: number; downMs: number }
  | { kind: 'redis-restart'; atMs: number; downMs: number }
  | { kind: 'redis-flush'; atMs: number }
  | { kind: 'upstream'; atMs: number; mode: UpstreamMode; calls: number }
  | { kind: 'network-delay'; atMs: number; delayMs: number; downMs: number }

export type FaultKind = Fault['kind']

export interface PlanOptions {
  seed: number
  /** How long faults are injected. */
  chaosMs: number
  /** Kafka nodes: 1 (a broker-kill is a whole outage) or 3. */
  nodes: number
  /** Faults per minute on average (default 8). */
  faultsPerMinute?: number
}

/** The kinds and how often each is drawn (weights). Redis loss is rarer: each forces a rebuild. */
const WEIGHTS: readonly [FaultKind, number][] = [
  ['kill', 5],
  ['pause', 3],
  ['broker-kill', 2],
  ['redis-restart', 1],
  ['redis-flush', 1],
  ['upstream', 4],
  ['network-delay', 2],
]

export const PROCESSES: readonly ProcessName[] = [
  'poller-1',
  'poller-2',
  'sentiment-1',
  'sentiment-2',
  'classifier-1',
  'classifier-2',
  'quality-1',
  'quality-2',
]

const UPSTREAM_MODES: readonly UpstreamMode[] = [
  'server-error',
  'rate-limited',
  'slow',
  'truncated',
  'disconnect',
]

/** mulberry32: a small, fast PRNG with a 32-bit state; `next()` in [0, 1). */
export function createRandom(seed: number): {
  next(): number
  int(lo: number, hi: number): number
} {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) }
}

/** When a fault stops holding its target (a fault with no duration: its start). */
export function faultEndMs(fault: Fault): number {
  return 'downMs' in fault ? fault.atMs + fault.downMs : fault.atMs
}

/** What a fault holds for its duration: a process, a node, Redis, the upstream or the link. */
function targetOf(fault: Fault): string {
  switch (fault.kind) {
    case 'kill':
    case 'pause':
      return fault.target
    case 'broker-kill':
      return 'kafka'
    case 'redis-restart':
    case 'redis-flush':
      return 'redis'
    case 'upstream':
      return 'upstream'
    case 'network-delay':
      return 'link'
  }
}

/**
 * The schedule: faults in start order, every one ending by `chaosMs`. Deterministic in
 * `options`; a drawn fault whose target is still held is drawn again for another target once,
 * then dropped.
 */
export function planFaults(options: PlanOptions): Fault[] {
  const random = createRandom(options.seed)
  const perMinute = options.faultsPerMinute ?? 8
  const count = Math.max(1, Math.round((options.chaosMs / 60_000) * perMinute))
  const starts = Array.from({ length: count }, () =>
    Math.floor(random.next() * options.chaosMs * 0.9),
  ).sort((a, b) => a - b)
  const totalWeight = WEIGHTS.reduce((sum, [, w]) => sum + w, 0)
  const drawKind = (): FaultKind => {
    let pick = random.next() * totalWeight
    for (const [kind, weight] of WEIGHTS) {
      pick -= weight
      if (pick < 0) return kind
    }
    return WEIGHTS[0]![0]
  }
  const heldUntil = new Map<string, number>()
  const plan: Fault[] = []
  for (const atMs of starts) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const fault = draw(drawKind(), atMs)
      const target = targetOf(fault)
      if ((heldUntil.get(target) ?? -1) >= atMs) continue
      // Ends inside the chaos span: the settle phase starts with every fault over.
      if (faultEndMs(fault) > options.chaosMs) continue
      heldUntil.set(target, faultEndMs(fault) + (fault.kind === 'redis-flush' ? 5_000 : 0))
      plan.push(fault)
      break
    }
  }
  return plan

  function draw(kind: FaultKind, atMs: number): Fault {
    switch (kind) {
      case 'kill':
        return { kind, atMs, target: pick(PROCESSES), downMs: random.int(500, 6_000) }
      case 'pause':
        return { kind, atMs, target: pick(PROCESSES), downMs: random.int(1_000, 8_000) }
      case 'broker-kill':
        return { kind, atMs, node: random.int(1, options.nodes), downMs: random.int(3_000, 12_000) }
      case 'redis-restart':
        return { kind, atMs, downMs: random.int(500, 3_000) }
      case 'redis-flush':
        return { kind, atMs }
      case 'upstream':
        return { kind, atMs, mode: pick(UPSTREAM_MODES), calls: random.int(1, 6) }
      case 'network-delay':
        return { kind, atMs, delayMs: random.int(100, 1_500), downMs: random.int(2_000, 10_000) }
    }
  }

  function pick<T>(values: readonly T[]): T {
    return values[Math.floor(random.next() * values.length)]!
  }
}

/** One line per fault, for the log and the verdict file. */
export function describeFault(fault: Fault): string {
  const at = `+${(fault.atMs / 1000).toFixed(1)}s`
  switch (fault.kind) {
    case 'kill':
      return `${at} SIGKILL ${fault.target}, restarted after ${fault.downMs} ms`
    case 'pause':
      return `${at} SIGSTOP ${fault.target}, SIGCONT after ${fault.downMs} ms`
    case 'broker-kill':
      return `${at} SIGKILL kafka node ${fault.node}, restarted after ${fault.downMs} ms`
    case 'redis-restart':
      return `${at} redis-server stopped (its data lost), started after ${fault.downMs} ms`
    case 'redis-flush':
      return `${at} FLUSHALL on Redis`
    case 'upstream':
      return `${at} the upstream answers ${fault.mode} to the next ${fault.calls} call(s)`
    case 'network-delay':
      return `${at} ${fault.delayMs} ms added to each read between the pollers and the upstream for ${fault.downMs} ms`
  }
}

/** How many faults of each kind a schedule holds. */
export function countByKind(plan: readonly Fault[]): Record<FaultKind, number> {
  const counts = Object.fromEntries(WEIGHTS.map(([k]) => [k, 0])) as Record<FaultKind, number>
  for (const fault of plan) counts[fault.kind]++
  return counts
}
