// The transaction status record, tx:{<id>}: the one place GET /v1/transactions/:id reads.
// ingest-api writes the idempotency fields (digest, state); the processor writes the outcome fields.
// Separate fields, so neither side can overwrite the other whatever order they run in.
import type { ChainableCommander } from 'ioredis';
import { changesChannel, outcomeFeedKey, outcomesChannel, statusKey } from './keys.ts';
import { limits } from './limits.ts';

export type TxStatus = 'pending' | 'applied' | 'rejected';

/** What the processor records once a transaction's last step has run. */
export interface Outcome {
  id: string;
  /** The producer that sent it (its id's namespace), when ingest-api authenticated it. */
  producer?: string;
  type: string;
  status: Exclude<TxStatus, 'pending'>;
  code: string;
  result?: Record<string, number>;
  /** Kafka timestamp of the message: the time ingest accepted it. */
  ingestedAt: number;
  appliedAt: number;
  /** True when this delivery found the id already decided (a redelivery or re-send). */
  duplicate: boolean;
}

export function writeOutcome(p: ChainableCommander, o: Outcome, retentionMs: number): void {
  p.hset(statusKey(o.id), {
    type: o.type,
    status: o.status,
    code: o.code,
    result: JSON.stringify(o.result ?? {}),
    ingestedAt: o.ingestedAt,
    appliedAt: o.appliedAt,
    ...(o.producer !== undefined && { producer: o.producer }),
  });
  p.pexpire(statusKey(o.id), retentionMs);
}

/**
 * Tells the ingest-apis waiting for this outcome that it is recorded: queued right after writeOutcome in the
 * same pipeline, so a waiter woken by it finds the status record written. Fire and forget: a waiter that
 * misses it (its ingest-api was reconnecting) reads the record when its wait runs out.
 */
export function announceOutcome(p: ChainableCommander, resultsTopic: string, o: Outcome): void {
  p.publish(outcomesChannel(resultsTopic), JSON.stringify({ id: o.id, status: o.status }));
  const { duplicate: _, ...outcome } = o;
  if (!o.duplicate)
    p.xadd(outcomeFeedKey(resultsTopic), 'MAXLEN', '~', limits.maxOutcomeFeed, '*', 'outcome', JSON.stringify(outcome));
}

/** Tells the live streams that an entity changed: they read its new history entries. */
export function announceChange(p: ChainableCommander, resultsTopic: string, domain: string, entity: string): void {
  p.publish(changesChannel(resultsTopic), `${domain} ${entity}`);
}

/** The payload digest of the client's message under its id (the field lua/tx.claim-1.lua compares). */
export function writeDigest(p: ChainableCommander, id: string, digest: string): void {
  p.hsetnx(statusKey(id), 'digest', digest);
}

/**
 * Another payload reached the processor under an id already decided (ingest could not check it: Redis was
 * away). Its effect is dropped; the id's record keeps the first outcome and lists the dropped payloads by
 * digest (idempotent on redelivery), so the client that sent one can see it was not applied.
 */
export function writeConflict(
  p: ChainableCommander,
  id: string,
  digest: string,
  type: string,
  ingestedAt: number,
  retentionMs: number,
): void {
  p.hset(statusKey(id), `conflict:${digest}`, `${type} ${ingestedAt}`);
  p.pexpire(statusKey(id), retentionMs);
}

/** The dropped payloads of a status record (writeConflict), oldest first. */
export function conflictsOf(record: Record<string, string>): Array<{ type: string; ingestedAt: number }> {
  return Object.entries(record)
    .filter(([field]) => field.startsWith('conflict:'))
    .map(([, value]) => {
      const [type, at] = value.split(' ') as [string, string];
      return { type, ingestedAt: Number(at) };
    })
    .sort((a, b) => a.ingestedAt - b.ingestedAt);
}

/** Marks a multi-step transaction as under way (a transfer between its debit and its credit). */
export function writeStep(p: ChainableCommander, id: string, type: string, step: string, retentionMs: number): void {
  p.hset(statusKey(id), { type, step });
  p.pexpire(statusKey(id), retentionMs);
}
