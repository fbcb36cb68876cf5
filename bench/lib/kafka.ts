// Kafka as the benchmark sees it: bulk preloading, consumer lag, and reading the outcome records back.
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import type { Topics } from '../../common/config.ts';
import { domains } from '../../common/domains.ts';
import { groupByTopic } from '../../common/kafka-sender.ts';
import { sleep } from '../../stack/proc.ts';
import type { Body } from '../mix.ts';
import { toRecord } from '../mix.ts';

export function benchKafka(brokers: string[], clientId = 'txpipe-bench'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.ERROR });
}

/**
 * Produces bodies straight to the domain topics as ingest-api would (keyed by entity), as fast as
 * kafkajs allows: large sendBatch calls, several in flight. Returns records and seconds taken.
 */
export async function preload(
  kafka: Kafka,
  topics: Topics,
  bodies: Iterable<Body>,
  idPrefix: string,
  opts: { chunk?: number; inFlight?: number } = {},
) {
  const chunk = opts.chunk ?? 5000;
  const inFlight = opts.inFlight ?? 4;
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const t0 = performance.now();
  const running = new Set<Promise<unknown>>();
  let n = 0;
  let buf: Array<{ topic: string; record: { key: string; value: string; timestamp: string } }> = [];
  const now = String(Date.now());
  const flush = async () => {
    const topicMessages = groupByTopic(buf);
    buf = [];
    const p = producer.sendBatch({ acks: -1, topicMessages });
    running.add(p);
    void p.finally(() => running.delete(p)).catch(() => undefined);
    if (running.size >= inFlight) await Promise.race(running);
  };
  for (const b of bodies) {
    const r = toRecord(b, `${idPrefix}${n++}`);
    buf.push({ topic: topics[r.domain], record: { key: r.key, value: r.value, timestamp: now } });
    if (buf.length >= chunk) await flush();
  }
  if (buf.length) await flush();
  await Promise.all(running);
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return { records: n, seconds };
}

/** End offsets of a topic, by partition. */
export async function highWatermarks(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offs = await admin.fetchTopicOffsets(topic);
  return new Map(offs.map((o) => [o.partition, BigInt(o.high)]));
}

/** Messages on the domain topics not yet committed by the group (the consumer lag), and the committed total. */
export async function groupLag(
  admin: Admin,
  groupId: string,
  topics: Topics,
): Promise<{ lag: number; committed: number; end: number }> {
  const names = domains.map((d) => topics[d]);
  const [committed, ...ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: names }),
    ...names.map((t) => admin.fetchTopicOffsets(t)),
  ]);
  let lag = 0;
  let done = 0;
  let end = 0;
  names.forEach((t, i) => {
    const c = committed.find((x) => x.topic === t);
    for (const e of ends[i]!) {
      const high = Number(e.high);
      const low = Number(e.low);
      const off = Number(c?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
      const at = off < 0 ? low : off;
      lag += Math.max(0, high - at);
      done += at - low;
      end += high - low;
    }
  });
  return { lag, committed: done, end };
}

/** Waits (bounded) until the group has committed everything on the domain topics; returns the last lag. */
export async function waitForLag0(admin: Admin, groupId: string, topics: Topics, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { lag } = await groupLag(admin, groupId, topics);
    if (lag === 0 || Date.now() > deadline) return lag;
    await sleep(250);
  }
}

export interface OutcomeRecord {
  id: string;
  type: string;
  status: string;
  code: string;
  ingestedAt: number;
  appliedAt: number;
  duplicate: boolean;
}

/** The outcome records written to `topic` between two sets of end offsets. */
export async function readRange(
  kafka: Kafka,
  topic: string,
  from: Map<number, bigint>,
  to: Map<number, bigint>,
  timeoutMs = 60_000,
): Promise<OutcomeRecord[]> {
  const remaining = new Map([...to].filter(([p, end]) => end > (from.get(p) ?? 0n)));
  const out: OutcomeRecord[] = [];
  if (!remaining.size) return out;
  const consumer = kafka.consumer({
    groupId: `txpipe-bench-reader-${process.pid}-${Date.now()}`,
    maxWaitTimeInMs: 100,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic}: ${remaining.size} partitions unread after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              if (m.value) out.push(JSON.parse(m.value.toString()) as OutcomeRecord);
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
            if (!remaining.size) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
      for (const [partition] of remaining)
        consumer.seek({ topic, partition, offset: String(from.get(partition) ?? 0n) });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
