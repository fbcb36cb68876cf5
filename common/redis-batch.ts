// Redis round trips shared by everything that runs in the same event-loop turn: each caller fills its own
// part of a pipeline, and all the parts queued during the turn go out as one pipeline (one write, one
// reply stream, one ioredis Pipeline object) on setImmediate. Each caller gets the replies of its own
// commands, in its order; Redis runs the parts one after another, so each part's order is kept.
//
// On a Redis Cluster one pipeline must stay on one node: the turn's commands are split by the node that
// serves each key's slot, one pipeline per node, sent together. An entity's keys share one slot, so its
// commands stay on one connection, in their order; the replies are put back in the callers' order.
import type { ChainableCommander } from 'ioredis';
import { isCluster, nodeOfKey, type RedisClient } from './redis.ts';

export type Reply = [error: Error | null, reply: unknown];

interface Part {
  fill(p: ChainableCommander): unknown;
  resolve(replies: Reply[]): void;
  reject(e: Error): void;
}

const queues = new WeakMap<RedisClient, Part[]>();

/** Parts at least this large go out alone, at once: sharing saves nothing there, and a large part sent
 * on its own lets Redis work on it while the next one is being prepared. */
const alone = 256;

/**
 * Queues a part of the turn's shared pipeline (`size`: how many commands it adds, if known). Resolves with
 * the part's [error, reply] pairs (a command's own error stays in its pair); rejects when the pipeline as a
 * whole fails (connection lost, Redis away).
 */
export function sharedPipeline(
  redis: RedisClient,
  fill: (p: ChainableCommander) => unknown,
  size = 1,
): Promise<Reply[]> {
  if (size >= alone) {
    const p = pipelineOf(redis);
    fill(p.commander);
    return p.exec();
  }
  return new Promise((resolve, reject) => {
    let queue = queues.get(redis);
    if (!queue) {
      const parts: Part[] = (queue = []);
      queues.set(redis, parts);
      setImmediate(() => flush(redis, parts));
    }
    queue.push({ fill, resolve, reject });
  });
}

function flush(redis: RedisClient, parts: Part[]): void {
  queues.delete(redis);
  const p = pipelineOf(redis);
  const ends: number[] = [];
  for (const part of parts) {
    try {
      part.fill(p.commander);
    } catch (e) {
      // A part that cannot even be queued (a bug, an unknown script) fails alone.
      part.reject(e as Error);
    }
    ends.push(p.length());
  }
  p.exec().then(
    (replies) => {
      let start = 0;
      parts.forEach((part, i) => {
        part.resolve(replies.slice(start, ends[i]));
        start = ends[i]!;
      });
    },
    (e: Error) => parts.forEach((part) => part.reject(e)),
  );
}

/**
 * A pipeline of its own (not the turn's shared one) on either kind of client: on a cluster its commands
 * may span nodes, each node getting its part. `exec()` gives the replies in the order queued.
 */
export function pipeline(redis: RedisClient): ChainableCommander & { exec(): Promise<Reply[]> } {
  const p = pipelineOf(redis);
  return new Proxy(p.commander, {
    get: (target, name, receiver) => (name === 'exec' ? p.exec : Reflect.get(target, name, receiver)),
  }) as ChainableCommander & { exec(): Promise<Reply[]> };
}

interface AnyPipeline {
  /** Takes the commands (every command txpipe pipelines names its key first, scripts included). */
  commander: ChainableCommander;
  length(): number;
  /** The replies in the order the commands were queued. */
  exec(): Promise<Reply[]>;
}

function pipelineOf(redis: RedisClient): AnyPipeline {
  if (!isCluster(redis)) {
    const p = redis.pipeline();
    return { commander: p, length: () => p.length, exec: () => p.exec().then((r) => (r ?? []) as Reply[]) };
  }
  const byNode = new Map<string, { pipeline: ChainableCommander; positions: number[] }>();
  let queued = 0;
  // Each command goes to the pipeline of the node that serves its first argument, its key. While the
  // slots are unknown (before the first connect) they share one pipeline: ioredis refuses it if they span
  // nodes, and the caller's retry finds the slots known.
  const commander = new Proxy({} as ChainableCommander, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => {
        const node = nodeOfKey(redis, String(args[0])) ?? 'unknown';
        let group = byNode.get(node);
        if (!group) byNode.set(node, (group = { pipeline: redis.pipeline(), positions: [] }));
        (group.pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
        group.positions.push(queued++);
        return commander;
      };
    },
  });
  return {
    commander,
    length: () => queued,
    exec: async () => {
      const replies: Reply[] = new Array(queued);
      await Promise.all(
        [...byNode.values()].map(async ({ pipeline, positions }) => {
          const nodeReplies = ((await pipeline.exec()) ?? []) as Reply[];
          positions.forEach((at, i) => {
            replies[at] = nodeReplies[i] ?? [new Error('no reply from its node'), null];
          });
        }),
      );
      // Sent by slots the client had wrong (a failover, a resharding): learn them now, so the caller's
      // retry goes where the keys are instead of waiting for the next periodic refresh.
      if (replies.some(([err]) => err && /^(MOVED|ASK|CLUSTERDOWN) /.test(err.message))) redis.refreshSlotsCache();
      return replies;
    },
  };
}
