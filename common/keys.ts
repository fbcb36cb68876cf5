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
 * Between a producer and its client's id in a stored transaction id: `checkout~order-17`. Neither ids nor
 * producer ids contain it (common/messages/fields.ts), so two producers' ids never meet, and an id stored
 * without a producer (TXPIPE_AUTH=off) never equals one stored with it.
 */
export const producerSeparator = '~';

/** The stored id of a producer's transaction (or hold, or reservation): the client's id in the producer's namespace. */
export const scopedId = (producer: string | undefined, id: string) =>
  producer === undefined ? id : `${producer}${producerSeparator}${id}`;

/** The producer of a stored id, if it has one. */
export const producerOf = (id: string): string | undefined => {
  const at = id.indexOf(producerSeparator);
  return at < 0 ? undefined : id.slice(0, at);
};

/** The Kafka header naming the producer of a transaction and of its follow-up steps. */
export const producerHeader = 'txpipe-producer';

/** A stored id as its producer's client knows it. */
export const clientIdOf = (id: string) => id.slice(id.indexOf(producerSeparator) + 1);

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
 * The sweeper's index of pending holds of one partition of a domain topic (processor/sweeper.ts): member
 * "<entity> <hold>", score the expiry. Its own hash tag, one per partition: no single hot slot on a
 * cluster, and each processor sweeps the partitions it owns. Written beside the status records, never by
 * a script (an entity's commands all travel in one partition, so its holds stay in one index).
 */
export const expiringKey = (topic: string, partition: number) => `expiring:{${topic}/${partition}}`;

/** The index as one sorted set per topic, as versions before the per-partition index kept it: drained, never written. */
export const legacyExpiringKey = (topic: string) => `expiring:{${topic}}`;

/** A two-phase hold (wallet hold, stock reservation, seat hold) inside its entity's hash tag. */
export const holdKey = (domain: Domain, entity: string, hold: string) => `${domain}:{${entity}}:hold:${hold}`;

/**
 * An entity's history (lua/includes/tx.lua txRecord): a sorted set inside the entity's hash tag, written by
 * the script that makes each change, scored by the message's offset.
 */
export const entriesKey = (domain: Domain, entity: string) => `${domain}:{${entity}}:entries`;

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

/**
 * The pub/sub channel on which the processor announces each outcome as it records it (common/status.ts),
 * and every ingest-api listens to wake the requests waiting for one (ingest-api/outcomes.ts). One per topic
 * prefix, named after its results topic.
 */
export const outcomesChannel = (resultsTopic: string) => `outcomes:{${resultsTopic}}`;

/**
 * The pub/sub channel on which the processor says which entities a batch changed ('<domain> <entity>'), for
 * ingest-api's live streams (ingest-api/streams.ts), which then read the new entries of the entity's history.
 */
export const changesChannel = (resultsTopic: string) => `changes:{${resultsTopic}}`;

/**
 * The recent outcomes, a Redis stream capped at maxOutcomeFeed entries (XADD MAXLEN ~): the feed of
 * GET /v1/transactions/stream, whose ids let a client resume after a disconnect. Its own hash tag.
 */
export const outcomeFeedKey = (resultsTopic: string) => `outcome-feed:{${resultsTopic}}`;

/** A producer key's token bucket (lua/ratelimit.take-1.lua): hash-tagged by its producer. */
export const rateLimitKey = (producer: string, keyId: string) => `ratelimit:{${producer}}:${keyId}`;
