// Runtime configuration, read once from the environment and validated at the edge.
import { z } from 'zod';
import type { RedisTarget } from './redis.ts';
import { domains, type Domain } from './domains.ts';

const Env = z.object({
  TXPIPE_KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  TXPIPE_REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Some nodes of a Redis Cluster (host:port,...): when set, every client is a cluster client and TXPIPE_REDIS_URL is unused. */
  TXPIPE_REDIS_CLUSTER: z
    .string()
    .regex(/^\s*[^\s,]+:\d+\s*(,\s*[^\s,]+:\d+\s*)*$/, 'host:port,host:port,...')
    .optional(),
  TXPIPE_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('txpipe'),
  TXPIPE_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
  TXPIPE_INGEST_HOST: z.string().default('127.0.0.1'),
  TXPIPE_INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  TXPIPE_PROCESSOR_HOST: z.string().default('127.0.0.1'),
  TXPIPE_PROCESSOR_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  TXPIPE_GROUP_ID: z.string().min(1).optional(),
  /** The ports of the Kafka (its controller on the next one) and Redis that `npm start` launches itself. */
  TXPIPE_KAFKA_PORT: z.coerce.number().int().min(1).max(65534).default(9092),
  TXPIPE_REDIS_PORT: z.coerce.number().int().min(1).max(65535).default(6379),
  /** How long a request waits for others to be accepted with it: one claim pipeline, one produce call (ingest-api/window.ts). */
  TXPIPE_LINGER_MS: z.coerce.number().min(0).max(100).default(5),
  /**
   * The processor's idempotency flags (and hold records): as long as a redelivery or the watermark rewind can
   * reach back, since a rewind never replays past it. Two days: a Redis restored from a copy up to that old is
   * brought up to date from the log; an older one is refused (and rebuilt from the log instead).
   */
  TXPIPE_FLAG_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(2 * 24 * 3600 * 1000),
  /**
   * The client's idempotency window: how long ingest's claim and the status record (GET /v1/transactions/:id)
   * live. Unset: a day, or the flag retention if that is shorter.
   */
  TXPIPE_IDEMPOTENCY_WINDOW_MS: z.coerce.number().int().min(1000).optional(),
  /** How long an entity's history entries are kept. Unset: the idempotency window. */
  TXPIPE_HISTORY_RETENTION_MS: z.coerce.number().int().min(1000).optional(),
  /** The rate Redis's maxmemory is checked against at the processor's start (processor/sizing.ts). */
  TXPIPE_SIZING_TX_PER_SEC: z.coerce.number().int().min(0).default(2000),
  /** How often the processor's sweeper looks for expired holds. */
  TXPIPE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  /**
   * Bytes the processor fetches per partition at a time: bigger batches take fewer rounds, smaller ones use
   * less memory. A fetch's messages stay alive until its batches are done (the Redis rounds, the produce):
   * large fetches outlive V8's young generation, are promoted, and the processor's heap grows with them
   * (16 KiB keeps a drain under 300 MB of RSS, at about three quarters of the drain rate).
   */
  TXPIPE_FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(128 * 1024),
  /** How long a processor fetch waits for messages to gather: fewer, larger rounds (CPU) against latency. */
  TXPIPE_FETCH_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(20),
  /**
   * The processor's CPU niceness (0-19). Where it shares CPUs with ingest-api, Kafka and Redis, its bursts
   * wait for their requests: producers wait on accept latency, while the processor is asynchronous by design.
   */
  /** How often the processor compares each partition's watermark in Redis with what it wrote there (a rollback without a reconnect). */
  TXPIPE_WATERMARK_CHECK_MS: z.coerce.number().int().min(100).max(5000).default(5000),
  TXPIPE_PROCESSOR_NICE: z.coerce.number().int().min(0).max(19).default(10),
  TXPIPE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `off` only on a trusted network: every request may do everything, ids are not namespaced by producer. */
  TXPIPE_AUTH: z.enum(['on', 'off']).default('on'),
  /** The API keys (ingest-api/keys.ts), reloaded when it changes; `npm run keys` edits it. */
  TXPIPE_KEYS_FILE: z.string().min(1).default('.stack/keys.json'),
  /** A key's token bucket when its record names none: transactions per second, and the burst. */
  TXPIPE_RATE_LIMIT: z.coerce.number().int().min(1).default(5000),
  TXPIPE_RATE_BURST: z.coerce.number().int().min(1).default(10000),
  /** Redis unreachable: `open` admits without limit, `closed` refuses 503. */
  TXPIPE_RATE_LIMIT_REDIS_DOWN: z.enum(['open', 'closed']).default('open'),
});

export interface Config {
  kafkaBrokers: string[];
  redisUrl: string;
  /** Where Redis is, for common/redis.ts: the URL, or the cluster's seed nodes when TXPIPE_REDIS_CLUSTER is set. */
  redis: RedisTarget;
  topicPrefix: string;
  partitions: number;
  ingest: { host: string; port: number };
  processor: {
    host: string;
    port: number;
    groupId: string;
    fetchMaxBytes: number;
    fetchWaitMs: number;
    watermarkCheckMs: number;
    nice: number;
  };
  lingerMs: number;
  /** How long each kind of record lives in Redis (README "Retention and sizing"). */
  retention: Retention;
  /** Kept for the callers that need the flags' retention alone (the rewind's horizon): retention.flagMs. */
  flagRetentionMs: number;
  /** Transactions a second that Redis's maxmemory should hold at the configured retention. */
  sizingTxPerSec: number;
  sweepIntervalMs: number;
  /** For the launcher (stack/start.ts): where the servers it starts listen. */
  stack: { kafkaPort: number; redisPort: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  auth: { enabled: boolean; keysFile: string };
  rateLimit: { rate: number; burst: number; whenRedisDown: 'open' | 'closed' };
}

export interface Retention {
  /** ingest's claim and the status record: the client's idempotency window. */
  idempotencyWindowMs: number;
  /** The processor's idempotency flags and hold records. */
  flagMs: number;
  /** The entities' history entries. */
  historyMs: number;
}

const dayMs = 24 * 3600 * 1000;

/** The retention settings, checked against each other. */
export function retentionOf(e: {
  TXPIPE_FLAG_RETENTION_MS: number;
  TXPIPE_IDEMPOTENCY_WINDOW_MS?: number | undefined;
  TXPIPE_HISTORY_RETENTION_MS?: number | undefined;
}): Retention {
  const flagMs = e.TXPIPE_FLAG_RETENTION_MS;
  const idempotencyWindowMs = e.TXPIPE_IDEMPOTENCY_WINDOW_MS ?? Math.min(dayMs, flagMs);
  // A re-send within the window whose claim Redis lost must still meet the processor's flag.
  if (flagMs < idempotencyWindowMs)
    throw new Error(
      `invalid configuration: TXPIPE_FLAG_RETENTION_MS (${flagMs}) is shorter than TXPIPE_IDEMPOTENCY_WINDOW_MS ` +
        `(${idempotencyWindowMs}): a re-send within the idempotency window must still find the processor's flag. ` +
        'Raise the flag retention or shorten the window.',
    );
  return { idempotencyWindowMs, flagMs, historyMs: e.TXPIPE_HISTORY_RETENTION_MS ?? idempotencyWindowMs };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    kafkaBrokers: e.TXPIPE_KAFKA_BROKERS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    redisUrl: e.TXPIPE_REDIS_URL,
    redis: {
      url: e.TXPIPE_REDIS_URL,
      ...(e.TXPIPE_REDIS_CLUSTER && { cluster: e.TXPIPE_REDIS_CLUSTER.split(',').map((s) => s.trim()) }),
    },
    topicPrefix: e.TXPIPE_TOPIC_PREFIX,
    partitions: e.TXPIPE_PARTITIONS,
    ingest: { host: e.TXPIPE_INGEST_HOST, port: e.TXPIPE_INGEST_PORT },
    processor: {
      host: e.TXPIPE_PROCESSOR_HOST,
      port: e.TXPIPE_PROCESSOR_PORT,
      groupId: e.TXPIPE_GROUP_ID ?? `${e.TXPIPE_TOPIC_PREFIX}-processor`,
      fetchMaxBytes: e.TXPIPE_FETCH_MAX_BYTES,
      fetchWaitMs: e.TXPIPE_FETCH_WAIT_MS,
      watermarkCheckMs: e.TXPIPE_WATERMARK_CHECK_MS,
      nice: e.TXPIPE_PROCESSOR_NICE,
    },
    lingerMs: e.TXPIPE_LINGER_MS,
    retention: retentionOf(e),
    flagRetentionMs: e.TXPIPE_FLAG_RETENTION_MS,
    sizingTxPerSec: e.TXPIPE_SIZING_TX_PER_SEC,
    sweepIntervalMs: e.TXPIPE_SWEEP_INTERVAL_MS,
    stack: { kafkaPort: e.TXPIPE_KAFKA_PORT, redisPort: e.TXPIPE_REDIS_PORT },
    logLevel: e.TXPIPE_LOG_LEVEL,
    auth: { enabled: e.TXPIPE_AUTH === 'on', keysFile: e.TXPIPE_KEYS_FILE },
    rateLimit: { rate: e.TXPIPE_RATE_LIMIT, burst: e.TXPIPE_RATE_BURST, whenRedisDown: e.TXPIPE_RATE_LIMIT_REDIS_DOWN },
  };
}

/** Topic names: one per domain (common/domains.ts), plus outcomes and dead letters. */
export function topics(prefix: string) {
  const perDomain = Object.fromEntries(domains.map((d) => [d, `${prefix}.${d}`])) as Record<Domain, string>;
  return { ...perDomain, results: `${prefix}.results`, dlq: `${prefix}.dlq` };
}
export type Topics = ReturnType<typeof topics>;
