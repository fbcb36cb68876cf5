// ioredis connections with the Lua command scripts registered (all, or the ones a service uses).
import { Redis } from 'ioredis';
import { defineScripts } from '../lua/scripts.ts';

export interface RedisOptions {
  name: string;
  failFast?: boolean;
  scripts?: readonly string[];
  /** Every command fails after this long without an answer (common/limits.ts). */
  commandTimeoutMs: number;
}

export function createRedis(url: string, opts: RedisOptions): Redis {
  const redis = new Redis(url, {
    connectionName: opts.name,
    // Callers that must answer quickly (ingest) fail fast while Redis is away instead of queueing.
    enableOfflineQueue: !opts.failFast,
    maxRetriesPerRequest: opts.failFast ? 0 : null,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    lazyConnect: true,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: 5000,
    // A peer that vanished without closing (a dead host, a black-holed route) is found by TCP, not only by us.
    keepAlive: 10_000,
  });
  redis.on('error', () => {
    /* reconnects on its own; callers see the failure of their command */
  });
  defineScripts(redis, opts.scripts);
  return redis;
}

/**
 * After a command timed out the connection is suspect: the peer may be black-holed, and every later
 * command would queue behind the unanswered ones. A new connection starts clean (its 'ready' tells the
 * processor to verify where Redis stands).
 */
export function dropIfTimedOut(redis: Redis, e: unknown): void {
  if ((e as Error | undefined)?.message === 'Command timed out' && redis.status === 'ready') redis.disconnect(true);
}
