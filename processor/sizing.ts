// Does Redis's maxmemory hold what the configured retention keeps at the configured rate? Redis must
// never evict (it would drop flags: a transaction applied twice), so a maxmemory too small for the
// windows ends in refused writes at the worst time: the processor says so at start instead.
import type { Retention } from '../common/config.ts';
import type { Logger } from '../common/log.ts';
import { masters, type RedisClient } from '../common/redis.ts';

/**
 * Redis bytes one single-entity transaction (a credit, a debit) leaves, by what keeps it and for how long:
 * measured with `npm run bench:compare -- --only memory` (used_memory growth, with the keys' share of
 * Redis's key and expiry tables), rounded up. A transfer leaves three flags and three entries (its
 * debit, credit and settle); a hold, a reservation or a seat hold adds its hold record for the flags'
 * retention (README "Retention and sizing").
 */
export const bytesPerTransaction = {
  /** The status record tx:{<id>} (ingest's claim and the outcome): the idempotency window. */
  statusRecord: 300,
  /** The processor's idempotency flag: the flag retention. */
  flag: 230,
  /** The entity's history entry: the history retention. */
  historyEntry: 200,
} as const;

export interface Sizing {
  statusRecords: number;
  flags: number;
  history: number;
  total: number;
}

/** Bytes Redis holds at a steady rate once every window is full (the entities' own state aside). */
export function retainedBytes(retention: Retention, txPerSec: number): Sizing {
  const perComponent = (bytes: number, ms: number) => Math.round((bytes * txPerSec * ms) / 1000);
  const statusRecords = perComponent(bytesPerTransaction.statusRecord, retention.idempotencyWindowMs);
  const flags = perComponent(bytesPerTransaction.flag, retention.flagMs);
  const history = perComponent(bytesPerTransaction.historyEntry, retention.historyMs);
  return { statusRecords, flags, history, total: statusRecords + flags + history };
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** The warning when a set maxmemory (> 0) cannot hold the windows at the rate, else undefined. */
export function sizingWarning(
  maxmemory: number,
  retention: Retention,
  txPerSec: number,
): { message: string; fields: Record<string, number> } | undefined {
  if (!(maxmemory > 0) || txPerSec <= 0) return undefined;
  const need = retainedBytes(retention, txPerSec);
  if (need.total <= maxmemory) return undefined;
  return {
    message:
      `Redis maxmemory (${gb(maxmemory)}) cannot hold the configured retention at ${txPerSec} transactions a second: ` +
      `about ${gb(need.total)} (status records ${gb(need.statusRecords)} for TXPIPE_IDEMPOTENCY_WINDOW_MS, flags ` +
      `${gb(need.flags)} for TXPIPE_FLAG_RETENTION_MS, history ${gb(need.history)} for TXPIPE_HISTORY_RETENTION_MS). ` +
      'Once it is full Redis refuses writes (noeviction) and the processor stops applying: raise maxmemory, ' +
      'shorten a retention, or set TXPIPE_SIZING_TX_PER_SEC to the rate you expect.',
    fields: {
      maxmemory,
      txPerSec,
      neededBytes: need.total,
      statusRecordBytes: need.statusRecords,
      flagBytes: need.flags,
      historyBytes: need.history,
      idempotencyWindowMs: retention.idempotencyWindowMs,
      flagRetentionMs: retention.flagMs,
      historyRetentionMs: retention.historyMs,
    },
  };
}

/**
 * Redis's maxmemory: the sum over a cluster's masters (each holds its slots' share), 0 when any has none
 * (no limit), undefined when it cannot be read.
 */
export async function readMaxmemory(redis: RedisClient): Promise<number | undefined> {
  try {
    const limits = await Promise.all(
      masters(redis).map(async ({ node }) => Number(/^maxmemory:(\d+)/m.exec(await node.info('memory'))?.[1])),
    );
    if (!limits.length || limits.some((n) => Number.isNaN(n))) return undefined;
    return limits.some((n) => n === 0) ? 0 : limits.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/** Logs the warning (warn level) when Redis's maxmemory is set and too small for the windows. */
export async function warnIfUndersized(redis: RedisClient, retention: Retention, txPerSec: number, log: Logger) {
  const maxmemory = await readMaxmemory(redis);
  const warning = maxmemory === undefined ? undefined : sizingWarning(maxmemory, retention, txPerSec);
  if (warning) log.warn(warning.message, warning.fields);
}
