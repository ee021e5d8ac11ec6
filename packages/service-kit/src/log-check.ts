import { toKafkaError, type Admin, type KafkaMessage } from '@wolkvox-chat-stream/kafka'
import type { Logger } from '@wolkvox-chat-stream/observability'
import type { ConsumerMetrics } from './metrics.js'
import { recordMark, type PartitionMeta, type StateStore } from './state-store.js'

/*
 * The check of a partition's stored state against the Kafka log it reads: state built from this
 * log goes on; state of an older epoch, or built from another log (another cluster or topic, a log
 * truncated or replaced), is wiped and rebuilt by replaying the partition; events deleted by
 * retention before they were applied are reported. Run at each assignment and epoch change
 * (`reconcile`) and before the first batch of a partition after them (`checkPartition`).
 */

/** What the service knows of one input partition. */
export interface PartitionState {
  partition: number
  /** The epoch under which this partition's state was last verified; check again otherwise. */
  checkedEpoch: string | undefined
  /** No state in this epoch yet: the first apply creates it (from the partition's first offset). */
  fresh: boolean
  /** While rebuilding: the last offset of the replay. */
  rebuildUntil: number | undefined
  rebuildReason: string | undefined
  /**
   * The offset this process last stored for the partition in this epoch. While it is known, a
   * chunk skips the pre-filter read: the script still checks, and a conflict brings the read back.
   */
  storedOffset: number | undefined
  /** Seeks made back to the stored offset to read its record and compare marks (see verifyLog). */
  markSeeks: number
  /**
   * The stored offset while its record is still ahead of the fetch position (a replay from
   * further back): the batch that brings it checks the partition again and compares the mark.
   */
  markAhead: number | undefined
  /**
   * The tail of the partition's checks: a check reads the state, asks Kafka, then may wipe; two of
   * them at once (an assignment's and a batch's) could wipe state the other has just rebuilt.
   */
  checks: Promise<void>
}

export function newPartitionState(partition: number): PartitionState {
  return {
    partition,
    checkedEpoch: undefined,
    fresh: false,
    rebuildUntil: undefined,
    rebuildReason: undefined,
    storedOffset: undefined,
    markSeeks: 0,
    markAhead: undefined,
    checks: Promise.resolve(),
  }
}

/** Runs `check` after the partition's previous check has ended (see PartitionState.checks). */
export function exclusive<R>(p: PartitionState, check: () => Promise<R>): Promise<R> {
  const run = p.checks.then(check, check)
  p.checks = run.then(
    () => undefined,
    () => undefined,
  )
  return run
}

/**
 * What the check of a partition's state against the log found: the same log; the record at the
 * stored offset still to be read (seek there); state built from another log (rebuild it); or events
 * deleted from the log (retention) before they were applied (nothing can bring them back).
 */
type LogVerdict =
  | { kind: 'same' }
  | { kind: 'seek'; offset: number }
  | { kind: 'foreign'; reason: ForeignReason; detail: string; low: number; high: number }
  | { kind: 'gap'; lost: number; low: number }

/** Why a partition's state is from another log (the `reason` of `wolkvox_consumer_rebuilds_total`). */
type ForeignReason = 'other_cluster' | 'other_topic' | 'log_truncated' | 'log_replaced'

// Reading the record at the stored offset again is tried this often before giving up on the
// comparison (the record may be gone: compaction, a transaction marker).
const MAX_MARK_SEEKS = 3

/** What the log check needs of the service it runs in. */
export interface LogCheckContext {
  input: string
  /** The consumer group (the service's name). */
  group: string
  logger: Logger
  metrics: Pick<ConsumerMetrics, 'retentionLost'>
  admin(): Admin
  store(): StateStore
  /** The service's current epoch. */
  epoch(): string
  /** Whether this process created the epoch (Redis had none). */
  epochCreated(): boolean
  assigned(): Iterable<number>
  partitionState(partition: number): PartitionState
  markRebuilding(p: PartitionState, low: number, high: number, reason: string): void
  /** Moves the fetch position (and drops what the partition's lane holds). */
  seek(partition: number, offset: number): void
}

export interface LogCheck {
  /** The partition's first offset and the offset after its last. */
  bounds: (partition: number) => Promise<{ low: number; high: number }>
  /** Reads the cluster id again (a broker replaced at the same address is another cluster). */
  refreshCluster: () => Promise<string>
  /** The cluster id last read. */
  cluster: () => string | undefined
  reportGap: (partition: number, lost: number, low: number, appliedOffset: number) => void
  checkPartition: (p: PartitionState, messages: readonly KafkaMessage[]) => Promise<boolean>
  reconcile: () => Promise<void>
}

export function createLogCheck(ctx: LogCheckContext): LogCheck {
  let clusterId: string | undefined

  const bounds = async (partition: number): Promise<{ low: number; high: number }> => {
    try {
      const offsets = await ctx.admin().fetchTopicOffsets(ctx.input)
      const found = offsets.find((o) => o.partition === partition)
      return { low: Number(found?.low ?? 0), high: Number(found?.high ?? 0) }
    } catch (error) {
      throw toKafkaError(error, `Reading the offsets of ${ctx.input}`)
    }
  }

  /** Reads the cluster id again: a broker replaced at the same address is another cluster. */
  const refreshCluster = async (): Promise<string> => {
    try {
      const found = await ctx.admin().describeCluster()
      clusterId = found.clusterId
      return found.clusterId
    } catch (error) {
      throw toKafkaError(error, 'Describing the cluster')
    }
  }

  /**
   * Checks that a partition's stored state was built from the log it now reads: the same cluster
   * and topic, an applied offset inside the log, and, when `messages` hold it, the same record at
   * that offset (its mark). Costs a describeCluster and a fetchTopicOffsets; and, when the batch
   * starts after the stored offset, one seek back to it (the next fetch brings that record). A
   * batch wholly before it leaves the comparison to the batch that brings it (`markAhead`).
   */
  const verifyLog = async (
    p: PartitionState,
    meta: PartitionMeta,
    messages?: readonly KafkaMessage[],
  ): Promise<LogVerdict> => {
    const cluster = await refreshCluster()
    const { low, high } = await bounds(p.partition)
    const foreign = (reason: ForeignReason, detail: string): LogVerdict => ({
      kind: 'foreign',
      reason,
      detail,
      low,
      high,
    })
    if (meta.cluster !== undefined && meta.cluster !== cluster) {
      return foreign('other_cluster', `built from cluster ${meta.cluster}, reading ${cluster}`)
    }
    if (meta.topic !== undefined && meta.topic !== ctx.input) {
      return foreign('other_topic', `built from topic ${meta.topic}, reading ${ctx.input}`)
    }
    if (meta.offset === undefined) return { kind: 'same' }
    if (meta.offset >= high) {
      return foreign(
        'log_truncated',
        `applied up to offset ${meta.offset}, but the log ends at offset ${high - 1}`,
      )
    }
    if (meta.offset < low - 1) return { kind: 'gap', lost: low - 1 - meta.offset, low }
    // The stored record is before the log's start (deleted after it was applied), or the state
    // predates marks: nothing more to compare.
    if (meta.offset < low || meta.mark === undefined || messages === undefined) {
      return { kind: 'same' }
    }
    const record = messages.find((m) => Number(m.offset) === meta.offset)
    if (record !== undefined) {
      return recordMark(record) === meta.mark
        ? { kind: 'same' }
        : foreign('log_replaced', `the record at offset ${meta.offset} is not the one applied`)
    }
    const lastOffset = Number(messages.at(-1)?.offset ?? Number.NaN)
    if (lastOffset < meta.offset) {
      // A replay from further back: every record before the stored one is a duplicate, nothing is
      // applied until it comes, and the batch that brings it compares the mark first. Seeking
      // forward to it instead would skip those records uncounted.
      p.markAhead = meta.offset
      return { kind: 'same' }
    }
    if (p.markSeeks >= MAX_MARK_SEEKS) {
      ctx.logger.warn('the record at the stored offset cannot be read; its mark is not compared', {
        partition: p.partition,
        offset: meta.offset,
      })
      return { kind: 'same' }
    }
    p.markSeeks++
    return { kind: 'seek', offset: meta.offset }
  }

  /** Events deleted before they were applied: nothing can rebuild them. Loud, then go on. */
  const reportGap = (partition: number, lost: number, low: number, appliedOffset: number): void => {
    ctx.metrics.retentionLost.inc(lost)
    ctx.logger.error(
      `${lost} events of ${ctx.input} were deleted (retention) before they were applied; they are missing from the state and cannot be rebuilt`,
      {
        code: 'CONSUMER_RETENTION_GAP',
        partition,
        appliedOffset,
        logStartOffset: low,
        lost,
      },
    )
  }

  /** Wipes a partition's state built from another log and replays the log it reads now. */
  const replaceForeign = async (
    p: PartitionState,
    verdict: Extract<LogVerdict, { kind: 'foreign' }>,
  ): Promise<void> => {
    const wiped = await ctx.store().wipePartition(p.partition)
    ctx.logger.warn(
      `partition state was built from another Kafka log (${verdict.detail}): rebuilding it from ${ctx.input}`,
      {
        code: 'CONSUMER_LOG_REPLACED',
        partition: p.partition,
        reason: verdict.reason,
        keys: wiped,
      },
    )
    p.storedOffset = undefined
    p.markSeeks = 0
    ctx.markRebuilding(p, verdict.low, verdict.high, verdict.reason)
  }

  const committedOffsets = async (): Promise<Map<number, number>> => {
    try {
      const [found] = await ctx.admin().fetchOffsets({ groupId: ctx.group, topics: [ctx.input] })
      return new Map((found?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
    } catch (error) {
      throw toKafkaError(error, `Reading the committed offsets of ${ctx.group}`)
    }
  }

  const reasonFor = (metaEpoch: string | undefined): string =>
    metaEpoch !== undefined ? 'stale_state' : ctx.epochCreated() ? 'epoch_missing' : 'state_missing'

  /**
   * Verifies a partition's state before its batch is processed: state of the current epoch built
   * from this log goes on; state of an older epoch, or built from another log, is wiped; a
   * partition without state is replayed from its first offset (a seek) unless the batch already
   * starts there. Returns false when the batch must be dropped.
   */
  const checkPartition = async (
    p: PartitionState,
    messages: readonly KafkaMessage[],
  ): Promise<boolean> => {
    const current = ctx.epoch()
    const s = ctx.store()
    const firstOffset = Number(messages[0]?.offset ?? 0)
    // Every check, not once: a flush empties the registry too.
    await s.registerPartition(p.partition)
    const meta = await s.readMeta(p.partition)
    p.storedOffset = undefined
    p.markAhead = undefined
    if (meta.epoch === current) {
      const verdict = await verifyLog(p, meta, messages)
      if (verdict.kind === 'seek') {
        ctx.seek(p.partition, verdict.offset)
        return false
      }
      if (verdict.kind !== 'foreign') {
        if (verdict.kind === 'gap') reportGap(p.partition, verdict.lost, verdict.low, meta.offset!)
        p.checkedEpoch = current
        p.fresh = false
        p.markSeeks = 0
        return true
      }
      await replaceForeign(p, verdict)
      p.checkedEpoch = current
      p.fresh = true
      if (firstOffset > verdict.low) {
        ctx.seek(p.partition, verdict.low)
        return false
      }
      return true
    }
    if (meta.epoch !== undefined) {
      const wiped = await s.wipePartition(p.partition)
      ctx.logger.warn('wiped partition state of an older epoch', {
        partition: p.partition,
        keys: wiped,
        stateEpoch: meta.epoch,
        epoch: current,
      })
    }
    const { low, high } = await bounds(p.partition)
    ctx.markRebuilding(p, low, high, reasonFor(meta.epoch))
    p.checkedEpoch = current
    p.fresh = true
    if (firstOffset > low) {
      ctx.seek(p.partition, low)
      return false
    }
    return true
  }

  /**
   * After an assignment or an epoch change: every assigned partition is verified again at its
   * next batch, and those without state of this epoch are sent back to their first offset now, so
   * that idle partitions are rebuilt too.
   */
  const reconcile = async (): Promise<void> => {
    const current = ctx.epoch()
    const s = ctx.store()
    let done: Map<number, number> | undefined
    for (const partition of [...ctx.assigned()]) {
      const p = ctx.partitionState(partition)
      p.checkedEpoch = undefined
      await exclusive(p, async () => {
        const meta = await s.readMeta(partition)
        if (meta.epoch === current) {
          // The record comparison waits for the partition's first batch; the rest is checked now,
          // so that an idle partition of a replaced log is not served meanwhile.
          const verdict = await verifyLog(p, meta)
          if (verdict.kind === 'foreign') {
            await replaceForeign(p, verdict)
            if (verdict.high > verdict.low) {
              done ??= await committedOffsets()
              if ((done.get(partition) ?? -1) > verdict.low) ctx.seek(partition, verdict.low)
            }
          }
          return
        }
        const { low, high } = await bounds(partition)
        // A batch checked before this reconcile may have stored state meanwhile (the check is
        // exclusive, the apply is not): its own check marked the rebuild, and its progress may
        // already have ended it. Marking it again here would wait for offsets already applied.
        if ((await s.readMeta(partition)).epoch === current) return
        if (high > low) {
          ctx.markRebuilding(p, low, high, reasonFor(meta.epoch))
          done ??= await committedOffsets()
          // A group that never committed starts at the first offset anyway.
          if ((done.get(partition) ?? -1) > low) ctx.seek(partition, low)
        } else if (meta.epoch !== undefined) {
          await s.wipePartition(partition)
        }
      })
    }
  }

  return {
    bounds,
    refreshCluster,
    cluster: () => clusterId,
    reportGap,
    checkPartition,
    reconcile,
  }
}
