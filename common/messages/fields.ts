// Field schemas every message type is built from. Bounds come from common/limits.ts.
import { z } from 'zod';
import { limits } from '../limits.ts';

/** Ids become Redis key parts and Kafka keys: printable ASCII, no spaces, no `{}` (hash tags). */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(limits.maxIdLength, `must be at most ${limits.maxIdLength} characters`)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -');

/** A producer's id (its namespace of transaction ids): short, lower case, never the producer separator `~`. */
export const ProducerId = z
  .string()
  .min(1, 'must not be empty')
  .max(limits.maxProducerIdLength, `must be at most ${limits.maxProducerIdLength} characters`)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'may contain only lower-case letters, digits and -, starting with a letter or digit');

/**
 * A field naming a transaction (its `id`, a `hold`, a `reservation`) as it travels on Kafka: the client's id,
 * in its producer's namespace (`<producer>~<id>`, common/keys.ts) when ingest-api authenticated it. Clients
 * send plain Ids (ingest-api/parse.ts refuses the separator); the namespace is added at ingest.
 */
export const TxId = z
  .string()
  .regex(
    new RegExp(
      `^(?:[a-z0-9][a-z0-9-]{0,${limits.maxProducerIdLength - 1}}~)?[A-Za-z0-9._:@-]{1,${limits.maxIdLength}}$`,
    ),
    `must be an id of 1-${limits.maxIdLength} letters, digits and . _ : @ -`,
  );

/** The fields of public types that name another transaction (a hold, a reservation): namespaced like the id. */
export const transactionRefFields = ['hold', 'reservation'] as const;

/** Amounts and quantities: integers in minor units, 1 ≤ n ≤ 2^53−1. Strings and floats are refused. */
export const Amount = z
  .int('must be an integer in minor units')
  .min(1, 'must be at least 1')
  .max(limits.maxAmount, 'must be at most 2^53-1');

/** A limit that may be zero (an overdraft, a per-customer limit of none). */
export const NonNegative = z
  .int('must be an integer in minor units')
  .min(0, 'must not be negative')
  .max(limits.maxAmount, 'must be at most 2^53-1');

export const TtlMs = z
  .int('must be an integer number of milliseconds')
  .min(limits.minTtlMs, `must be at least ${limits.minTtlMs} ms`)
  .max(limits.maxTtlMs, `must be at most ${limits.maxTtlMs} ms`);
