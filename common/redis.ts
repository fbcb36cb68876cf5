// ioredis clients with the Lua command scripts registered (all, or the ones a service uses): one Redis, or
// a Redis Cluster through ioredis's Cluster client. Callers see one type, RedisClient; what differs between
// the two (which node holds a key, the nodes to read one by one) is answered here.
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { defineScripts } from '../lua/scripts.ts';

export type RedisClient = Redis | Cluster;

/** Where Redis is: one server by URL, or a cluster by some of its nodes (host:port; the rest are discovered). */
export interface RedisTarget {
  url: string;
  cluster?: string[];
}

export interface RedisOptions {
  name: string;
  failFast?: boolean;
  scripts?: readonly string[];
  /** Every command fails after this long without an answer (common/limits.ts). */
  commandTimeoutMs: number;
}

const retryDelay = (times: number) => Math.min(50 * 2 ** times, 2000);

export function createRedis(target: RedisTarget, opts: RedisOptions): RedisClient {
  const perConnection = {
    connectionName: opts.name,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: 5000,
    // A peer that vanished without closing (a dead host, a black-holed route) is found by TCP, not only by us.
    keepAlive: 10_000,
  };
  // Callers that must answer quickly (ingest) fail fast while Redis is away instead of queueing.
  const redis = target.cluster?.length
    ? new Cluster(target.cluster.map(parseNode), {
        enableOfflineQueue: !opts.failFast,
        lazyConnect: true,
        // Writes and the reads that decide (claims, watermarks) must see the master's state.
        scaleReads: 'master',
        clusterRetryStrategy: retryDelay,
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        // A failover moves slots: a refresh every few seconds finds the promoted replica even when no
        // command was refused meanwhile.
        slotsRefreshInterval: 2000,
        slotsRefreshTimeout: 2000,
        redisOptions: { ...perConnection, maxRetriesPerRequest: opts.failFast ? 0 : null },
      })
    : new Redis(target.url, {
        ...perConnection,
        enableOfflineQueue: !opts.failFast,
        maxRetriesPerRequest: opts.failFast ? 0 : null,
        retryStrategy: retryDelay,
        lazyConnect: true,
      });
  redis.on('error', () => {
    /* reconnects on its own; callers see the failure of their command */
  });
  defineScripts(redis, opts.scripts);
  return redis;
}

/** `host:port` (or `redis://host:port`) as ioredis's Cluster takes a startup node. */
export function parseNode(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `redis://${address}`);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

export const isCluster = (redis: RedisClient): redis is Cluster => redis instanceof Cluster;

/**
 * The master that serves a key's slot (`host:port`), as the client last learned it; undefined while the
 * slots are not known yet. One Redis: always the same node.
 */
export function nodeOfKey(redis: RedisClient, key: string): string | undefined {
  if (!isCluster(redis)) return 'single';
  return redis.slots[calculateSlot(key)]?.[0];
}

/** The masters, each with a hash tag whose keys it serves: the one Redis, or every master of the cluster. */
export function masters(redis: RedisClient): Array<{ node: Redis; tag: string }> {
  if (!isCluster(redis)) return [{ node: redis, tag: '0' }];
  // Asked for every batch's watermarks: worked out once per slot map, again after each change to it.
  let known = mastersOfCluster.get(redis);
  if (!known) {
    if (!watchedClusters.has(redis)) {
      watchedClusters.add(redis);
      for (const event of ['refresh', '+node', '-node']) redis.on(event, () => mastersOfCluster.delete(redis));
    }
    known = findMasters(redis);
    if (known.length) mastersOfCluster.set(redis, known);
  }
  return known;
}

const mastersOfCluster = new WeakMap<Cluster, Array<{ node: Redis; tag: string }>>();
const watchedClusters = new WeakSet<Cluster>();

function findMasters(redis: Cluster): Array<{ node: Redis; tag: string }> {
  const found = new Map<string, string>();
  const wanted = new Set(redis.slots.map((owners) => owners?.[0]).filter((n): n is string => Boolean(n)));
  // The first small integer whose slot each master serves: stable while the slots stay where they are.
  for (let i = 0; found.size < wanted.size && i < 1_000_000; i++) {
    const owner = redis.slots[calculateSlot(String(i))]?.[0];
    if (owner && !found.has(owner)) found.set(owner, String(i));
  }
  return redis.nodes('master').flatMap((node) => {
    const tag = found.get(`${node.options.host}:${node.options.port}`);
    return tag === undefined ? [] : [{ node, tag }];
  });
}

/**
 * After a command timed out the connection is suspect: the peer may be black-holed, and every later
 * command would queue behind the unanswered ones. A new connection starts clean (its 'ready' tells the
 * processor to verify where Redis stands).
 */
export function dropIfTimedOut(redis: RedisClient, e: unknown): void {
  if ((e as Error | undefined)?.message === 'Command timed out' && redis.status === 'ready') redis.disconnect(true);
}
