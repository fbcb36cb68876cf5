// The connections ingest-api keeps besides its command connection (common/redis.ts), on one Redis or a Redis
// Cluster alike: a subscriber (a subscribed connection takes no other commands; ioredis subscribes again
// after each reconnect) and a reader for blocking reads. Both queue their commands until connected and retry
// for ever: they serve waiting requests and streams, which answer from the status records meanwhile.
import { Cluster, Redis } from 'ioredis';
import { parseNode, type RedisClient, type RedisTarget } from '../common/redis.ts';

const retryDelay = (times: number) => Math.min(50 * 2 ** times, 2000);

export function background(target: RedisTarget, name: string): RedisClient {
  const redis = target.cluster?.length
    ? new Cluster(target.cluster.map(parseNode), {
        scaleReads: 'master',
        clusterRetryStrategy: retryDelay,
        redisOptions: { connectionName: name, maxRetriesPerRequest: null },
      })
    : new Redis(target.url, { connectionName: name, maxRetriesPerRequest: null, retryStrategy: retryDelay });
  redis.on('error', () => undefined);
  return redis;
}
