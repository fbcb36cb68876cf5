// Redis key names. Every key of an entity carries the entity as its hash tag, so one script touches
// one slot and runs unchanged on Redis Cluster.
import type { Domain } from './domains.ts';

/** The entity's state: wallet:{acct-42}, stock:{sku-7}, seats:{event-3}. */
export const entityKey = (domain: Domain, entity: string) => `${domain}:{${entity}}`;

/**
 * Between a transaction id and its step in a flag key. Ids cannot contain it (common/messages/fields.ts),
 * so a client's id never names a step's flag: `T1:settle` is a transaction of its own, never `T1`'s settle.
 */
export const stepSeparator = '/';

/**
 * The idempotency flag of one transaction on that entity: wallet:{acct-42}:tx:<id>, and for a step of a
 * multi-step transaction wallet:{acct-42}:tx:<id>/<step>[/<scope>...], where the scope names whatever
 * else tells two transactions' steps apart on this entity (a transfer's credit: its source account).
 */
export const flagKey = (domain: Domain, entity: string, id: string, ...step: string[]) =>
  [`${domain}:{${entity}}:tx:${id}`, ...step].join(stepSeparator);

/** A transaction's status record (ingest's claim, then the processor's outcome): its own hash tag, the id. */
export const statusKey = (id: string) => `tx:{${id}}`;

/**
 * The sweeper's index of pending holds of one domain topic (processor/sweeper.ts): member "<entity> <hold>",
 * score the expiry. Its own hash tag: written beside the status records, never by a script.
 */
export const expiringKey = (topic: string) => `expiring:{${topic}}`;

/** A two-phase hold (wallet hold, stock reservation, seat hold) inside its entity's hash tag. */
export const holdKey = (domain: Domain, entity: string, hold: string) => `${domain}:{${entity}}:hold:${hold}`;

/** Units per customer of a sku (reserved + sold), for the per-customer limit. */
export const customersKey = (sku: string) => `stock:{${sku}}:customers`;

/**
 * Where the processor records how far each partition is applied (lua/watermark.advance-1.lua): one hash per
 * Redis node, `<topic>/<partition>` -> last offset. It must live on the node that holds the writes it vouches
 * for, so on a cluster each node gets its own tag; one Redis has one.
 */
export const watermarkKey = (tag = '0') => `watermarks:{${tag}}`;

/** The watermark field of one partition. */
export const watermarkField = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * The record of DLQ replays (ops/dlq.ts): one hash per dead-letter topic, `<partition>:<offset>` -> who
 * replayed it and when. Its own hash tag: written by an operator's tool, never by a script.
 */
export const dlqReplaysKey = (dlqTopic: string) => `dlq-replays:{${dlqTopic}}`;
