// Redis round trips shared by everything that runs in the same event-loop turn: each caller fills its own
// part of a pipeline, and all the parts queued during the turn go out as one pipeline (one write, one
// reply stream, one ioredis Pipeline object) on setImmediate. Each caller gets the replies of its own
// commands, in its order; Redis runs the parts one after another, so each part's order is kept.
import type { ChainableCommander, Redis } from 'ioredis';

export type Reply = [error: Error | null, reply: unknown];

interface Part {
  fill(p: ChainableCommander): unknown;
  resolve(replies: Reply[]): void;
  reject(e: Error): void;
}

const queues = new WeakMap<Redis, Part[]>();

/** Parts at least this large go out alone, at once: sharing saves nothing there, and a large part sent
 * on its own lets Redis work on it while the next one is being prepared. */
const alone = 256;

/**
 * Queues a part of the turn's shared pipeline (`size`: how many commands it adds, if known). Resolves with
 * the part's [error, reply] pairs (a command's own error stays in its pair); rejects when the pipeline as a
 * whole fails (connection lost, Redis away).
 */
export function sharedPipeline(redis: Redis, fill: (p: ChainableCommander) => unknown, size = 1): Promise<Reply[]> {
  if (size >= alone) {
    const p = redis.pipeline();
    fill(p);
    return p.exec().then((replies) => (replies ?? []) as Reply[]);
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

function flush(redis: Redis, parts: Part[]): void {
  queues.delete(redis);
  const p = redis.pipeline();
  const ends: number[] = [];
  for (const part of parts) {
    try {
      part.fill(p);
    } catch (e) {
      // A part that cannot even be queued (a bug, an unknown script) fails alone.
      part.reject(e as Error);
    }
    ends.push(p.length);
  }
  p.exec().then(
    (replies) => {
      let start = 0;
      parts.forEach((part, i) => {
        part.resolve(((replies ?? []) as Reply[]).slice(start, ends[i]));
        start = ends[i]!;
      });
    },
    (e: Error) => parts.forEach((part) => part.reject(e)),
  );
}
