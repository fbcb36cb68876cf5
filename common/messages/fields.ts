// Field schemas every message type is built from. Bounds come from common/limits.ts.
import { z } from 'zod';
import { limits } from '../limits.ts';

/** Ids become Redis key parts and Kafka keys: printable ASCII, no spaces, no `{}` (hash tags). */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(limits.maxIdLength, `must be at most ${limits.maxIdLength} characters`)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -');

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
