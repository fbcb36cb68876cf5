// Every bound the system enforces, with the reason it exists. The README's limits table is checked
// against this object by test/readme.test.ts, so the two cannot drift apart.
export const limits = {
  /** Largest amount, quantity or balance: above 2^53-1 a JS number (and a Lua double) stops being exact. */
  maxAmount: Number.MAX_SAFE_INTEGER,
  /** Ids are Redis key parts and Kafka keys: short, printable, and never a `{` or `}` that would break the hash tag. */
  maxIdLength: 128,
  /** One JSON body: a single transaction is a few hundred bytes; 64 KiB leaves room without inviting abuse. */
  maxBodyBytes: 64 * 1024,
  /** One batch request: bounded so one client cannot hold a produce call (and the event loop) for long. */
  maxBatchItems: 1000,
  maxBatchBytes: 1024 * 1024,
  /** Holds and reservations: at least 1 s (shorter is a race with the sweeper), at most a day. */
  minTtlMs: 1000,
  maxTtlMs: 24 * 60 * 60 * 1000,
  /** Seats per hold and per event definition: a hold is all-or-nothing in one script, so it stays small. */
  maxSeatsPerHold: 20,
  maxSeatsPerEvent: 10000,
  /** Requests waiting for a Kafka acknowledgement; past it ingest answers 503 at once instead of queueing. */
  maxPendingProduces: 20000,
  /**
   * Transaction requests under way in one ingest-api; past it the next get 503 at once (shed, not queued).
   * Normal load keeps a few dozen in flight (rate x latency); a burst of hundreds is still admitted.
   */
  maxInFlightRequests: 1000,
  /**
   * How long a Redis command may go unanswered before it fails (and its connection is replaced): a Redis that
   * stops answering without closing must not hold requests or batches forever. ingest-api answers clients, so
   * its bound is short (a claim takes a millisecond); the processor's pipelines carry thousands of scripts.
   */
  ingestRedisTimeoutMs: 1000,
  processorRedisTimeoutMs: 5000,
} as const;

export type Limits = typeof limits;
