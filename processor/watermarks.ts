// The processor's position as Redis holds it: per partition, the last offset whose effects are complete
// (scripts, status records, the sweeper's index, the follow-ups and results published). Redis is the
// cache of the log's effect; this is how it says how far into the log it got.
//
// On a Redis Cluster each master keeps its own watermark of every partition (its own hash tag), moved
// after that batch's writes on that master: a failover that promotes a replica behind shows on that one
// master. A partition stands where its lowest watermark stands.
import { watermarkField, watermarkKey } from '../common/keys.ts';
import { masters, type RedisClient } from '../common/redis.ts';
import { sharedPipeline } from '../common/redis-batch.ts';
import { callScript } from '../lua/scripts.ts';

export type Advance = { moved: true } | { moved: false; current: number | undefined };

/** What identifies the Redis the processor talks to, and the setting it relies on. */
export interface RedisIdentity {
  /** Every master's run id: a restart or a failover changes it. */
  runId: string;
  /** The first master's policy other than noeviction, else noeviction. */
  maxmemoryPolicy: string;
}

const parseOffset = (v: string | null | undefined) =>
  v === null || v === undefined || v === '' ? undefined : Number(v);

/** The lowest of the nodes' offsets; undefined when any node has none (it lost all, or never had it). */
const lowest = (values: Array<number | undefined>) =>
  values.some((v) => v === undefined) ? undefined : Math.min(...(values as number[]));

export class Watermarks {
  constructor(private readonly redis: RedisClient) {}

  private keys(): string[] {
    const nodes = masters(this.redis);
    if (!nodes.length) throw new Error('Redis Cluster slots not known yet');
    return nodes.map((m) => watermarkKey(m.tag));
  }

  /**
   * The watermark of each partition (undefined where Redis has none). `level`: where the masters of a
   * cluster disagree (one lost writes, or a batch moved some and not all), the higher ones are brought
   * down to the lowest, so the next batch's compare-and-set finds one value everywhere. Lowering only
   * replays more, which the flags absorb.
   */
  async read(
    partitions: Array<{ topic: string; partition: number }>,
    opts: { level?: boolean } = {},
  ): Promise<Array<number | undefined>> {
    if (!partitions.length) return [];
    const fields = partitions.map((p) => watermarkField(p.topic, p.partition));
    const keys = this.keys();
    const perNode = await Promise.all(
      keys.map(async (key) => (await this.redis.hmget(key, ...fields)).map(parseOffset)),
    );
    const marks = fields.map((_, i) => lowest(perNode.map((values) => values[i])));
    if (opts.level && keys.length > 1) {
      const fixes: Array<Promise<unknown>> = [];
      keys.forEach((key, n) =>
        fields.forEach((field, i) => {
          const mark = marks[i];
          if (perNode[n]![i] === mark) return;
          fixes.push(mark === undefined ? this.redis.hdel(key, field) : this.redis.hset(key, field, String(mark)));
        }),
      );
      await Promise.all(fixes);
    }
    return marks;
  }

  /**
   * Moves a partition's watermark from `expected` (undefined: none yet) to `to` on every master, in the
   * event-loop turn's shared pipeline, after whatever the batch wrote before on each connection. Refused
   * (nothing written on that master) where a watermark holds anything else.
   */
  async advance(topic: string, partition: number, expected: number | undefined, to: number): Promise<Advance> {
    const field = watermarkField(topic, partition);
    const keys = this.keys();
    const replies = (await sharedPipeline(
      this.redis,
      (p) => {
        for (const key of keys) callScript(p, 'watermark.advance', [key], [field, expected ?? '', to]);
      },
      keys.length,
    )) as Array<[Error | null, [number, string]]>;
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    if (replies.every(([, [moved]]) => moved === 1)) return { moved: true };
    return {
      moved: false,
      current: lowest(replies.map(([, [moved, current]]) => (moved === 1 ? to : parseOffset(current)))),
    };
  }

  async identity(): Promise<RedisIdentity> {
    const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    const nodes = masters(this.redis);
    if (!nodes.length) throw new Error('Redis Cluster slots not known yet');
    const infos = await Promise.all(
      nodes.map(async ({ node }) => [await node.info('server'), await node.info('memory')] as const),
    );
    const policies = infos.map(([, memory]) => field(memory, 'maxmemory_policy'));
    return {
      runId: infos
        .map(([server]) => field(server, 'run_id'))
        .sort()
        .join(','),
      maxmemoryPolicy: policies.find((p) => p !== 'noeviction') ?? 'noeviction',
    };
  }
}
