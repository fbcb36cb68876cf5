// The processor's position as Redis holds it: per partition, the last offset whose effects are complete
// (scripts, status records, the sweeper's index, the follow-ups and results published). Redis is the
// cache of the log's effect; this is how it says how far into the log it got.
import type { Redis } from 'ioredis';
import { watermarkField, watermarkKey } from '../common/keys.ts';
import { sharedPipeline } from '../common/redis-batch.ts';
import { callScript } from '../lua/scripts.ts';

export type Advance = { moved: true } | { moved: false; current: number | undefined };

/** What identifies the Redis the processor talks to, and the setting it relies on. */
export interface RedisIdentity {
  runId: string;
  maxmemoryPolicy: string;
}

const parseOffset = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? undefined : Number(v));

export class Watermarks {
  private readonly key = watermarkKey();

  constructor(private readonly redis: Redis) {}

  /** The watermark of each partition; undefined where Redis has none. */
  async read(partitions: Array<{ topic: string; partition: number }>): Promise<Array<number | undefined>> {
    if (!partitions.length) return [];
    const values = await this.redis.hmget(this.key, ...partitions.map((p) => watermarkField(p.topic, p.partition)));
    return values.map(parseOffset);
  }

  /**
   * Moves a partition's watermark from `expected` (undefined: none yet) to `to`, in the event-loop turn's
   * shared pipeline, after whatever the batch wrote before on this connection. Refused (nothing written)
   * when the watermark holds anything else.
   */
  async advance(topic: string, partition: number, expected: number | undefined, to: number): Promise<Advance> {
    const [[err, reply]] = (await sharedPipeline(this.redis, (p) =>
      callScript(p, 'watermark.advance', [this.key], [watermarkField(topic, partition), expected ?? '', to]))) as [[Error | null, [number, string]]];
    if (err) throw err;
    const [moved, current] = reply;
    return moved === 1 ? { moved: true } : { moved: false, current: parseOffset(current) };
  }

  async identity(): Promise<RedisIdentity> {
    const info = await this.redis.info('server');
    const memory = await this.redis.info('memory');
    const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    return { runId: field(info, 'run_id'), maxmemoryPolicy: field(memory, 'maxmemory_policy') };
  }
}
