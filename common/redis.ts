// ioredis connections with the Lua command scripts registered (all, or the ones a service uses).
import { Redis } from 'ioredis';
import { defineScripts } from '../lua/scripts.ts';

export function createRedis(url: string, opts: { name: string; failFast?: boolean; scripts?: readonly string[] }): Redis {
  const redis = new Redis(url, {
    connectionName: opts.name,
    // Callers that must answer quickly (ingest) fail fast while Redis is away instead of queueing.
    enableOfflineQueue: !opts.failFast,
    maxRetriesPerRequest: opts.failFast ? 0 : null,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    lazyConnect: true,
  });
  redis.on('error', () => {
    /* reconnects on its own; callers see the failure of their command */
  });
  defineScripts(redis, opts.scripts);
  return redis;
}
