// The transaction status record, tx:{<id>}: the one place GET /v1/transactions/:id reads.
// ingest-api writes the idempotency fields (digest, claim); the processor writes the outcome fields.
// Separate fields, so neither side can overwrite the other whatever order they run in.
import type { ChainableCommander } from 'ioredis';
import { changesChannel, outcomeFeedKey, outcomesChannel, producerOf, statusKey } from './keys.ts';
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

/**
 * The record's fields. Field names are stored in every record, so they are one letter; the outcome is one
 * field and its result another, each short enough (under Redis's 64-byte listpack value limit) that the
 * record stays a compact listpack:
 *   d  the payload digest (ingest's claim, or the processor's writeDigest)
 *   c  ingest's claim: the in-flight deadline (epoch ms) while it publishes, `a` once Kafka acknowledged
 *   o  the outcome: `<a|r> <code> <ingestedAt> <appliedAt - ingestedAt> <type>` (applied or rejected)
 *   r  its result: `<name>:<value> ...` (absent when empty)
 *   p  the producer, only when the id's namespace does not already say it
 *   s  a multi-step transaction under way: `<type> <step>`
 *   conflict:<digest>  a payload dropped as `conflict`: `<type> <ingestedAt>`
 * Records written before this layout (fields digest, state, until, type, status, code, result, ingestedAt,
 * appliedAt, producer, step) live out their window beside it: readStatus and lua/tx.claim-1.lua read both.
 */
export const statusField = { digest: 'd', claim: 'c', outcome: 'o', result: 'r', producer: 'p', step: 's' } as const;
/** The claim's value once Kafka acknowledged the transaction. */
export const claimAccepted = 'a';

export function writeOutcome(p: ChainableCommander, o: Outcome, windowMs: number): void {
  const status = o.status === 'applied' ? 'a' : 'r';
  const result = Object.entries(o.result ?? {})
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  p.hset(statusKey(o.id), {
    [statusField.outcome]: `${status} ${o.code} ${o.ingestedAt} ${o.appliedAt - o.ingestedAt} ${o.type}`,
    ...(result && { [statusField.result]: result }),
    ...(o.producer !== undefined && o.producer !== producerOf(o.id) && { [statusField.producer]: o.producer }),
  });
  p.pexpire(statusKey(o.id), windowMs);
}

/** The scripts' retention argument (lua/includes/tx.lua ARGV[2]): the flags' and the history's. */
export const scriptRetention = (r: { flagMs: number; historyMs: number }) => `${r.flagMs} ${r.historyMs}`;

/** A status record as GET /v1/transactions/:id and the tools see it, from either layout. */
export interface StatusRecord {
  digest?: string;
  /** ingest's claim: publishing now (until its deadline), published, or none (released, or never claimed). */
  claim?: { state: 'inflight'; until: number } | { state: 'accepted' };
  outcome?: {
    type: string;
    status: Exclude<TxStatus, 'pending'>;
    code: string;
    result: Record<string, number>;
    ingestedAt: number;
    appliedAt: number;
  };
  producer?: string;
  /** A multi-step transaction under way: its type and the step it is at. */
  step?: { type: string; step: string };
  conflicts: Array<{ type: string; ingestedAt: number }>;
}

/** Every field readStatus may need, for an HMGET (conflicts need HGETALL). */
export const statusFields = [
  ...Object.values(statusField),
  ...['digest', 'state', 'until', 'type', 'status', 'code', 'result', 'ingestedAt', 'appliedAt', 'producer', 'step'],
];

/** Parses an HMGET of statusFields (a record without its conflicts). */
export function readStatusFields(values: Array<string | null>, id?: string): StatusRecord | undefined {
  return readStatus(Object.fromEntries(statusFields.map((f, i) => [f, values[i]])), id);
}

/** Parses a status record (HGETALL), the current layout or the one before; undefined when there is none. */
export function readStatus(h: Record<string, string | null | undefined>, id?: string): StatusRecord | undefined {
  if (!Object.values(h).some((v) => v !== null && v !== undefined)) return undefined;
  const f = statusField;
  const record: StatusRecord = { conflicts: conflictsOf(h) };
  const digest = h[f.digest] ?? h.digest;
  if (digest) record.digest = digest;
  const claim = h[f.claim];
  if (claim === claimAccepted || h.state === 'accepted') record.claim = { state: 'accepted' };
  else if (claim) record.claim = { state: 'inflight', until: Number(claim) };
  else if (h.state === 'inflight') record.claim = { state: 'inflight', until: Number(h.until) };
  const o = h[f.outcome];
  if (o) {
    const [status, code, at, took, type] = o.split(' ') as [string, string, string, string, string];
    const result: Record<string, number> = {};
    for (const pair of (h[f.result] ?? '').split(' ').filter(Boolean)) {
      const colon = pair.lastIndexOf(':');
      result[pair.slice(0, colon)] = Number(pair.slice(colon + 1));
    }
    const ingestedAt = Number(at);
    record.outcome = {
      type,
      status: status === 'a' ? 'applied' : 'rejected',
      code,
      result,
      ingestedAt,
      appliedAt: ingestedAt + Number(took),
    };
  } else if (h.status) {
    record.outcome = {
      type: h.type ?? '',
      status: h.status as Exclude<TxStatus, 'pending'>,
      code: h.code ?? '',
      result: JSON.parse(h.result ?? '{}') as Record<string, number>,
      ingestedAt: Number(h.ingestedAt),
      appliedAt: Number(h.appliedAt),
    };
  }
  const producer = h[f.producer] ?? h.producer ?? (id === undefined ? undefined : producerOf(id));
  if (producer !== undefined) record.producer = producer;
  const step = h[f.step];
  if (step) {
    const at = step.indexOf(' ');
    record.step = { type: step.slice(0, at), step: step.slice(at + 1) };
  } else if (h.step) record.step = { type: h.type ?? '', step: h.step };
  return record;
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
  p.hsetnx(statusKey(id), statusField.digest, digest);
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
  windowMs: number,
): void {
  p.hset(statusKey(id), `conflict:${digest}`, `${type} ${ingestedAt}`);
  p.pexpire(statusKey(id), windowMs);
}

/** The dropped payloads of a status record (writeConflict), oldest first. */
export function conflictsOf(
  record: Record<string, string | null | undefined>,
): Array<{ type: string; ingestedAt: number }> {
  return Object.entries(record)
    .filter(([field]) => field.startsWith('conflict:'))
    .map(([, value]) => {
      const [type, at] = (value ?? '').split(' ') as [string, string];
      return { type, ingestedAt: Number(at) };
    })
    .sort((a, b) => a.ingestedAt - b.ingestedAt);
}

/** Marks a multi-step transaction as under way (a transfer between its debit and its credit). */
export function writeStep(p: ChainableCommander, id: string, type: string, step: string, windowMs: number): void {
  p.hset(statusKey(id), statusField.step, `${type} ${step}`);
  p.pexpire(statusKey(id), windowMs);
}
