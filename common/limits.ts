// Every bound the system enforces, with the reason it exists. The README's limits table is checked
// against this object by test/readme.test.ts, so the two cannot drift apart.
export const limits = {
  /** Largest amount, quantity or balance: above 2^53-1 a JS number (and a Lua double) stops being exact. */
  maxAmount: Number.MAX_SAFE_INTEGER,
  /** Ids are Redis key parts and Kafka keys: short, printable, and never a `{` or `}` that would break the hash tag. */
  maxIdLength: 128,
  /** A producer's id prefixes every id it sends (`<producer>~<id>`, common/keys.ts): short, so the stored id stays short. */
  maxProducerIdLength: 32,
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
  /**
   * The largest encoded transaction ingest accepts (its Kafka record's value); a larger one is refused with
   * 413 before anything is claimed or sent. Below maxRecordBytes by room for the key and for the headers the
   * processor adds when it dead-letters the record.
   */
  maxTransactionBytes: 1_000_000,
  /**
   * The largest record a txpipe producer sends (value, key and headers). A record alone in a produce call
   * is one record batch, which the broker refuses above message.max.bytes (1,048,588 bytes by default)
   * with the batch's own framing.
   */
  maxRecordBytes: 1_040_000,
  /**
   * Bytes of records in one produce call. kafkajs writes a call's records for one partition as one record
   * batch, refused above message.max.bytes; half of it keeps clear of that wherever the records land, and
   * a record larger than this goes in a call of its own.
   */
  maxProduceBytes: 512 * 1024,
  /**
   * How long a produce call (or a producer's connect) may go unanswered before it counts as failed: its
   * callers learn that the records may be in the log and the producer is replaced. Bounds how long an
   * ingest request waits when Kafka stops answering (kafkajs's own retries would take a minute or more).
   */
  produceTimeoutMs: 5000,
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
  /**
   * How long an id claimed by a request still waiting for Kafka blocks a concurrent request with the same id
   * (409 in flight) before another may take it over: longer than any produce call can last.
   */
  claimInFlightMs: 30_000,
  /**
   * The HTTP edge (ingest-api/edge.ts). A request's headers must all arrive within headersTimeoutMs (a
   * slowloris client sending a byte a second is cut off, checked every edgeCheckIntervalMs) and the whole
   * request within requestTimeoutMs (a body trickled in as slowly). Headers are at most maxHeaderBytes (a
   * request carries a handful), connections at most maxConnections (more are closed at once), and a
   * keep-alive connection serves at most maxRequestsPerSocket requests, idle at most keepAliveTimeoutMs
   * (above the 60 s of common load balancers, so they close first).
   */
  headersTimeoutMs: 5000,
  requestTimeoutMs: 15_000,
  edgeCheckIntervalMs: 1000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 10_000,
  maxRequestsPerSocket: 100_000,
  keepAliveTimeoutMs: 65_000,
  /** Single requests accepted together (one Redis round, one produce call): bounds one window's work. */
  maxAcceptWindowItems: 1000,
  /** Expire commands one sweep publishes per partition: a backlog of due holds drains over several sweeps. */
  maxExpiresPerSweep: 5000,
  /**
   * A processor fetch returns once this much is waiting (or after the fetch wait): under light load a round
   * carries a wait's worth of messages instead of a handful.
   */
  fetchMinBytes: 64 * 1024,
  /** The most one processor fetch holds, whatever the partitions handled at once: bounds its memory. */
  maxFetchBytes: 10 * 1024 * 1024,
  /**
   * The longest `?wait=` a request may ask for its outcome: a waiting request holds a connection (and, for a
   * POST, an in-flight slot), so it is bounded well below a client's or a proxy's usual timeout.
   */
  maxWaitMs: 30_000,
  /**
   * Requests of one ingest-api waiting for an outcome at once; past it a `?wait=` request answers at once with
   * what it finds. Each waiter is a timer and an entry in a map: this bounds their memory.
   */
  maxWaiters: 10_000,
  /** Entries of an entity's history per page (GET .../entries?limit=): one Redis read, one bounded answer. */
  defaultEntriesPage: 50,
  maxEntriesPage: 500,
  /**
   * Live streams (SSE): clients per ingest-api (past it, 503 overloaded); bytes waiting to be sent to one client
   * before it is dropped as too slow (it reconnects with Last-Event-ID); a comment every heartbeat so proxies keep
   * the connection open; outcomes kept in the feed a client may resume within; entries replayed on a resume.
   */
  maxStreamClients: 1000,
  maxStreamBufferBytes: 256 * 1024,
  streamHeartbeatMs: 15_000,
  maxOutcomeFeed: 10_000,
  maxStreamReplay: 1000,
  /**
   * How long the group waits for a silent processor before handing its partitions to the others: a crashed
   * member's partitions stall this long. Heartbeats go every 3 s, also while a batch waits for Redis.
   */
  consumerSessionMs: 10_000,
} as const;

export type Limits = typeof limits;
