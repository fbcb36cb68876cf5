// A Redis Cluster on loopback: `masters` redis-servers in cluster mode, each with `replicasPerMaster`
// replicas, AOF on, joined by `redis-cli --cluster create`. Nodes can be killed and restarted on their
// own data (a restarted master comes back as a replica of the one promoted in its place).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { commandExists, sleep } from './proc.ts';
import { startRedis, type RedisServer } from './redis.ts';

export interface RedisClusterNode {
  address: string;
  port: number;
  server: RedisServer | undefined;
  /** Starts it again on its port and data after a kill or stop. */
  start(): Promise<void>;
}

export interface RedisCluster {
  /** host:port of every node, for TXPIPE_REDIS_CLUSTER. */
  nodes: string[];
  members: RedisClusterNode[];
  /** The masters as the cluster sees them now (CLUSTER NODES of a live node). */
  masters(): Promise<string[]>;
  /** Resolves once every slot is served and every node agrees the cluster is ok. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  dir: string;
  masters?: number;
  replicasPerMaster?: number;
  /** The first node's port, the others after it. Omitted: free ports. */
  basePort?: number;
  /** How long a master may be silent before its replica takes over (cluster-node-timeout). */
  nodeTimeoutMs?: number;
  log?: (s: string) => void;
  onExit?: (address: string, code: number | string | null) => void;
}

export async function startRedisCluster(opts: StartRedisClusterOptions): Promise<RedisCluster> {
  if (!commandExists('redis-cli', ['--version'])) throw new Error('redis-cli not found: apt-get install redis-tools');
  const log = opts.log ?? (() => {});
  const count = (opts.masters ?? 3) * (1 + (opts.replicasPerMaster ?? 1));
  // Each node also listens on a cluster bus port (by default its port + 10000, which may be taken): given
  // explicitly, from the free ports too, or 10000 above a fixed base as Redis would.
  const ports: Array<{ port: number; bus: number }> = [];
  for (let i = 0; i < count; i++) {
    ports.push(
      opts.basePort
        ? { port: opts.basePort + i, bus: opts.basePort + i + 10_000 }
        : { port: await freePort(), bus: await freePort() },
    );
  }
  const members: RedisClusterNode[] = ports.map(({ port, bus }) => {
    const member: RedisClusterNode = {
      address: `127.0.0.1:${port}`,
      port,
      server: undefined,
      start: async () => {
        const dir = path.join(opts.dir, String(port));
        member.server = await startRedis({
          dir,
          port,
          logFile: path.join(dir, 'redis.log'),
          onExit: (code) => opts.onExit?.(member.address, code),
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(bus),
            '--cluster-config-file',
            path.join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(opts.nodeTimeoutMs ?? 3000),
            // A replica takes over whatever its lag: the processor's watermarks find and replay what it lacks.
            '--cluster-replica-validity-factor',
            '0',
          ],
        });
      },
    };
    return member;
  });
  fs.mkdirSync(opts.dir, { recursive: true });
  await Promise.all(members.map((m) => m.start()));
  const stop = async () => {
    await Promise.all(members.flatMap((m) => (m.server ? [m.server.stop()] : [])));
  };
  const cluster: RedisCluster = {
    nodes: members.map((m) => m.address),
    members,
    masters: async () => {
      for (const m of members.filter((x) => x.server)) {
        const found = await withNode(m.port, async (c) => mastersOf((await c.cluster('NODES')) as string), undefined);
        if (found) return found;
      }
      throw new Error('no Redis Cluster node answers');
    },
    waitHealthy: async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(members.filter((m) => m.server).map((m) => clusterState(m.port)));
        if (states.every((s) => s === 'ok')) return;
        if (Date.now() > deadline)
          throw new Error(`Redis Cluster not healthy after ${timeoutMs / 1000} s: ${states.join(', ')}`);
        await sleep(200);
      }
    },
    stop,
  };
  try {
    // Already formed (a restart of the stack on its data): the nodes find each other from nodes.conf.
    if ((await clusterState(members[0]!.port)) !== 'ok' && !(await knowsOthers(members[0]!.port))) {
      log(`creating a Redis Cluster of ${opts.masters ?? 3} masters and ${opts.replicasPerMaster ?? 1} replica each`);
      const created = spawnSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...cluster.nodes,
          '--cluster-replicas',
          String(opts.replicasPerMaster ?? 1),
          '--cluster-yes',
        ],
        { encoding: 'utf8' },
      );
      if (created.status !== 0)
        throw new Error(`redis-cli --cluster create failed:\n${(created.stdout + created.stderr).slice(-2000)}`);
    }
    await cluster.waitHealthy();
    await waitReplicasInSync(members);
  } catch (e) {
    await stop();
    throw e;
  }
  log(`Redis Cluster ready: ${cluster.nodes.join(',')}`);
  return cluster;
}

async function withNode<T>(port: number, fn: (client: Redis) => Promise<T>, fallback: T): Promise<T> {
  const client = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch {
    return fallback;
  } finally {
    client.disconnect();
  }
}

const clusterState = (port: number) =>
  withNode(
    port,
    async (c) => /cluster_state:(\w+)/.exec((await c.cluster('INFO')) as string)?.[1] ?? 'unknown',
    'down',
  );

const knowsOthers = (port: number) =>
  withNode(port, async (c) => ((await c.cluster('NODES')) as string).trim().split('\n').length > 1, false);

/** Every replica linked to its master: a test that kills a master right away needs its replica caught up. */
async function waitReplicasInSync(members: RedisClusterNode[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const links = await Promise.all(
      members.map((m) =>
        withNode(
          m.port,
          async (c) => {
            const info = await c.info('replication');
            return !/role:slave/.test(info) || /master_link_status:up/.test(info);
          },
          false,
        ),
      ),
    );
    if (links.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error('Redis Cluster replicas not in sync after 30 s');
    await sleep(200);
  }
}

/** The masters in a CLUSTER NODES reply (`<id> <ip:port@cport> <flags> ...`) that are not failing. */
export function mastersOf(nodes: string): string[] {
  return nodes
    .trim()
    .split('\n')
    .flatMap((line) => {
      const [, address, flags] = line.split(' ');
      const set = new Set(flags?.split(','));
      return set.has('master') && !set.has('fail') && !set.has('fail?') ? [address!.split('@')[0]!] : [];
    });
}
