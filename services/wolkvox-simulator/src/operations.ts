import {
  createDataset,
  DATASET_CACHE_LIMITS,
  type Dataset,
  type DatasetOptions,
} from './dataset.js'
import { hashSeed } from './random.js'

/** The server code of the first operation when none is given. */
export const DEFAULT_FIRST_SERVER = 100_001
/** The most operations one simulator serves. */
export const MAX_OPERATIONS = 10_000
/** The largest server code: Wolkvox's are 1 to 6 digits. */
export const MAX_SERVER_CODE = 999_999

/**
 * The token of the operation with server code `server`: `sim-token-<server>`. Derived from the
 * code, so anyone who knows the code knows the token: the simulator's tokens are not secrets.
 */
export const operationToken = (server: string): string => `sim-token-${server}`

/**
 * The seed of the data of operation `server` in a simulator started with `seed`: a pure function of
 * both (52 bits, so two operations practically never share their data). Pass it as `seed` to
 * `computeTruth` or `createDataset` to get an operation's data without a server.
 */
export function operationSeed(seed: number, server: string): number {
  const code = Number(server)
  const high = hashSeed(seed, code, 0x0e5a) >>> 12
  return high * 0x1_0000_0000 + hashSeed(seed, code, 0x0e5b)
}

/** One operation as the control API shows it: never its token. */
export interface OperationStatus {
  server: string
  /** Whether its dataset has been created (on its first call or truth). */
  built: boolean
  /** Calls counted against its daily quota today (local day of the simulator's zone). */
  callsToday: number
  quotaLeft: number
}

/** The operations of a simulator started with `operations`: server codes and lazy datasets. */
export interface OperationSet {
  readonly count: number
  readonly firstServer: number
  /** Whether `server` is one of the codes served. */
  has(server: string): boolean
  /** Every server code, in order. */
  servers(): string[]
  /** The operation's dataset, created on first use and kept; undefined for an unknown code. */
  dataset(server: string): Dataset | undefined
  /** Whether the operation's dataset exists yet. */
  built(server: string): boolean
  /** How many datasets exist. */
  builtCount(): number
}

/**
 * Serves `count` operations with server codes `String(firstServer + i)`, each with the data of
 * `options` but its own seed ({@link operationSeed}). Nothing is computed up front: a dataset is
 * created when its operation is first asked, and its caches get a share of twice what one
 * dataset keeps, so memory stays bounded whatever the number of operations.
 */
export function createOperationSet(
  options: DatasetOptions,
  count: number,
  firstServer: number,
): OperationSet {
  const datasets = new Map<string, Dataset>()
  const share = (limit: number): number =>
    Math.min(limit, Math.max(1, Math.floor((2 * limit) / count)))
  const limits = {
    headerHours: share(DATASET_CACHE_LIMITS.headerHours),
    chatMessages: share(DATASET_CACHE_LIMITS.chatMessages),
  }
  const has = (server: string): boolean => {
    // Exact codes only: `0100001` or `100001.0` name another operation, as another host would.
    if (!/^(0|[1-9]\d{0,5})$/.test(server)) return false
    const code = Number(server)
    return code >= firstServer && code < firstServer + count
  }
  return {
    count,
    firstServer,
    has,
    servers: () => Array.from({ length: count }, (_, i) => String(firstServer + i)),
    dataset(server) {
      if (!has(server)) return undefined
      let dataset = datasets.get(server)
      if (dataset === undefined) {
        dataset = createDataset({ ...options, seed: operationSeed(options.seed, server) }, limits)
        datasets.set(server, dataset)
      }
      return dataset
    },
    built: (server) => datasets.has(server),
    builtCount: () => datasets.size,
  }
}
