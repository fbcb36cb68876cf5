// Dead letters (<prefix>.dlq): list them with why and where they came from, show one, and put chosen ones
// back on their original topic under their original key once their cause is fixed.
//
// A replay is safe to repeat as far as the pipeline goes (a replayed message that had been applied meets
// its idempotency flag), but an operator replaying the same offsets twice is a mistake worth stopping, so
// every replay is recorded: who, from which host, when. The record is a Redis hash claimed with HSETNX
// before anything is published, so two operators replaying the same range at once cannot both go ahead
// (a Kafka topic of replays could record but not claim: two readers would both see nothing yet). Redis may
// forget a record after a crash; what remains is the flags' guarantee, and the replayed message carries
// its origin in a header (txpipe-replay-of), so the log itself says what was replayed.
import os from 'node:os';
import type { RedisClient as Redis } from '../common/redis.ts';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Topics } from '../common/config.ts';
import { createProducer } from '../common/kafka.ts';
import { groupByTopic } from '../common/kafka-sender.ts';
import { dlqReplaysKey } from '../common/keys.ts';
import { readTopicRecords } from './read-topic.ts';

export interface DeadLetter {
  partition: number;
  offset: string;
  /** The address operators type: <partition>:<offset> in the DLQ. */
  address: string;
  reason: string;
  origin: { topic: string; partition: number; offset: string };
  key: string | null;
  /** The original message's `type`, when its bytes are a JSON object with one. */
  type: string | undefined;
  value: Buffer | null;
  headers: IHeaders;
}

const header = (h: IHeaders | undefined, name: string) => h?.[name]?.toString() ?? '';
const dlqHeaders = ['txpipe-dlq-reason', 'txpipe-dlq-topic', 'txpipe-dlq-partition', 'txpipe-dlq-offset'];

function typeOf(value: Buffer | null): string | undefined {
  try {
    const v = JSON.parse(value?.toString() ?? '');
    return typeof v?.type === 'string' ? v.type : undefined;
  } catch {
    return undefined;
  }
}

export function toDeadLetter(partition: number, m: KafkaMessage): DeadLetter {
  return {
    partition,
    offset: m.offset,
    address: `${partition}:${m.offset}`,
    reason: header(m.headers, 'txpipe-dlq-reason'),
    origin: {
      topic: header(m.headers, 'txpipe-dlq-topic'),
      partition: Number(header(m.headers, 'txpipe-dlq-partition')),
      offset: header(m.headers, 'txpipe-dlq-offset'),
    },
    key: m.key?.toString() ?? null,
    type: typeOf(m.value),
    value: m.value,
    headers: m.headers ?? {},
  };
}

export interface Selection {
  /** `<partition>:<offset>`, or an offset alone (in any partition). */
  address?: string;
  from?: number;
  to?: number;
  partition?: number;
  type?: string;
}

export function selects(s: Selection, d: DeadLetter): boolean {
  const offset = Number(d.offset);
  if (s.address !== undefined) return s.address.includes(':') ? s.address === d.address : s.address === d.offset;
  return (
    (s.partition === undefined || s.partition === d.partition) &&
    (s.from === undefined || offset >= s.from) &&
    (s.to === undefined || offset <= s.to) &&
    (s.type === undefined || s.type === d.type)
  );
}

export interface DlqContext {
  kafka: Kafka;
  redis: Redis;
  topics: Topics;
}

/** The dead letters chosen by `s`, in partition then offset order. */
export async function deadLetters(c: DlqContext, s: Selection = {}): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  await readTopicRecords(c.kafka, c.topics.dlq, ({ partition, message }) => {
    const d = toDeadLetter(partition, message);
    if (selects(s, d)) out.push(d);
  });
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export interface ReplayRecord {
  by: string;
  host: string;
  at: string;
  times: number;
}

/** A replay that would repeat offsets already replayed: nothing was published. */
export class ReplayRefused extends Error {
  override name = 'ReplayRefused';
  constructor(readonly already: Array<{ address: string } & ReplayRecord>) {
    super(
      `already replayed, nothing published (--force to replay again): ${already.map((a) => `${a.address} by ${a.by}@${a.host} at ${a.at}`).join('; ')}`,
    );
  }
}

export const operator = () => ({ by: process.env.USER ?? os.userInfo().username, host: os.hostname() });

/**
 * Re-publishes each dead letter to its original topic with its original key and bytes (its time is the
 * replay's: the message is accepted again now). Claims every offset first; with any claimed before and no
 * `force`, publishes none of them and throws ReplayRefused.
 */
export async function replay(
  c: DlqContext,
  letters: DeadLetter[],
  o: { force?: boolean } = {},
): Promise<ReplayRecord & { replayed: string[] }> {
  const key = dlqReplaysKey(c.topics.dlq);
  const record: ReplayRecord = { ...operator(), at: new Date().toISOString(), times: 1 };
  const previous = letters.length ? await c.redis.hmget(key, ...letters.map((d) => d.address)) : [];
  const already = letters.flatMap((d, i) =>
    previous[i] ? [{ address: d.address, ...(JSON.parse(previous[i]!) as ReplayRecord) }] : [],
  );
  if (already.length && !o.force) throw new ReplayRefused(already);
  const claimed: string[] = [];
  for (const [i, d] of letters.entries()) {
    const times = previous[i] ? (JSON.parse(previous[i]!) as ReplayRecord).times + 1 : 1;
    const value = JSON.stringify({ ...record, times });
    // HSETNX: a concurrent replay of the same offset claimed it first; --force overwrites knowingly.
    const won = previous[i]
      ? (await c.redis.hset(key, d.address, value), 1)
      : await c.redis.hsetnx(key, d.address, value);
    if (!won) {
      await c.redis.hdel(key, ...claimed);
      throw new ReplayRefused([
        { address: d.address, ...(JSON.parse((await c.redis.hget(key, d.address))!) as ReplayRecord) },
      ]);
    }
    claimed.push(d.address);
  }
  const producer = createProducer(c.kafka);
  await producer.connect();
  try {
    await producer.sendBatch({
      acks: -1,
      topicMessages: groupByTopic(
        letters.map((d) => ({
          topic: d.origin.topic,
          record: {
            key: d.key,
            value: d.value,
            headers: {
              ...withoutDlqHeaders(d.headers),
              'txpipe-replay-of': `${c.topics.dlq}/${d.address}`,
              'txpipe-replay-by': `${record.by}@${record.host}`,
            },
          },
        })),
      ),
    });
  } catch (e) {
    // Not published: the claims go, so the replay can be tried again without --force.
    if (claimed.length) await c.redis.hdel(key, ...claimed);
    throw e;
  } finally {
    await producer.disconnect();
  }
  return { ...record, replayed: claimed };
}

function withoutDlqHeaders(h: IHeaders): IHeaders {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !dlqHeaders.includes(k)));
}

/** The replays recorded so far, by address. */
export async function replays(c: DlqContext): Promise<Record<string, ReplayRecord>> {
  const all = await c.redis.hgetall(dlqReplaysKey(c.topics.dlq));
  return Object.fromEntries(Object.entries(all).map(([a, v]) => [a, JSON.parse(v) as ReplayRecord]));
}
