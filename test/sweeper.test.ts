// The sweeper under a backlog: holds due behind a page of entries whose expire commands are out but not
// applied (a stalled partition) must still be published, not wait behind that page forever.
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics as topicNames } from '../common/config.ts';
import { createProducer } from '../common/kafka.ts';
import { KafkaSender } from '../common/kafka-sender.ts';
import { createLogger } from '../common/log.ts';
import { Sweeper } from '../processor/sweeper.ts';
import { ensureTopics } from '../stack/topics.ts';
import { readTopic, services, uid } from './harness.ts';
import { expiringKey, legacyExpiringKey } from '../common/keys.ts';

const prefix = uid('sw').replace('-', '');
const topics = topicNames(prefix);
let redis: Redis;
let kafka: Kafka;
let sender: KafkaSender;

beforeAll(async () => {
  const { kafkaBrokers, redisUrl } = services();
  await ensureTopics(kafkaBrokers, prefix, 1);
  redis = new Redis(redisUrl);
  kafka = new Kafka({ brokers: kafkaBrokers, clientId: prefix, logLevel: logLevel.NOTHING });
  sender = new KafkaSender({ create: () => createProducer(kafka), log: createLogger('test', 'error') });
  await sender.connect();
});
afterAll(async () => {
  await sender?.disconnect();
  redis?.disconnect();
});

it('a page of published-but-unapplied holds does not block the holds due after it', async () => {
  let clock = 1_000_000;
  const sweeper = new Sweeper({
    redis,
    sender,
    topics,
    log: createLogger('test', 'error'),
    intervalMs: 1000,
    maxPerSweep: 50,
    now: () => clock,
    owned: () => [{ topic: topics.stock, partition: 0 }],
  });
  const key = expiringKey(topics.stock, 0);
  // 120 entries due first, on a partition nobody applies: they stay in the index. Then 10 due later.
  const stuck = Array.from({ length: 120 }, (_, i) => [100 + i, `stuck-sku stuck-${i}`] as const);
  const later = Array.from({ length: 10 }, (_, i) => [500 + i, `sku-${i} hold-${i}`] as const);
  await redis.zadd(key, ...[...stuck, ...later].flatMap(([score, m]) => [score, m]));

  for (let round = 0; round < 3; round++) {
    await sweeper.sweep();
    clock += 1000;
  }
  const published = (await readTopic(kafka, topics.stock)).map((m) => JSON.parse(m.value!.toString()).id as string);
  expect(published.filter((id) => id.startsWith('hold-')).sort()).toEqual(later.map(([, m]) => m.split(' ')[1]).sort());
  // Each entry once per republish period, not once per sweep.
  expect(new Set(published).size).toBe(published.length);
});

/** A sweeper at a fixed clock that owns `owned`. */
const sweeperOwning = (owned: Array<{ topic: string; partition: number }>, clock: number) =>
  new Sweeper({
    redis,
    sender,
    topics,
    log: createLogger('test', 'error'),
    intervalMs: 1000,
    now: () => clock,
    owned: () => owned,
  });

it('sweeps only the partitions this processor owns: another member sweeps the rest', async () => {
  const clock = 2_000_000;
  const owned = [{ topic: topics.seats, partition: 0 }];
  const sweeper = sweeperOwning(owned, clock);
  await redis.zadd(expiringKey(topics.seats, 0), 100, 'gig-0 mine-0');
  await redis.zadd(expiringKey(topics.seats, 1), 100, 'gig-1 theirs-1');
  expect(await sweeper.sweep()).toBe(1);
  const published = (await readTopic(kafka, topics.seats)).map((m) => JSON.parse(m.value!.toString()).id as string);
  expect(published).toEqual(['mine-0']);
  // The other partition's entry is untouched, still due for its owner.
  expect(await redis.zscore(expiringKey(topics.seats, 1), 'gig-1 theirs-1')).toBe('100');
});

it('drains the one index per topic of earlier versions: its due holds are published once, then gone from it', async () => {
  const clock = 3_000_000;
  const owned = [{ topic: topics.wallet, partition: 0 }];
  const sweeper = sweeperOwning(owned, clock);
  await redis.zadd(legacyExpiringKey(topics.wallet), 100, 'acct-1 old-hold-1', 9_000_000, 'acct-2 later-hold-2');
  expect(await sweeper.sweep()).toBe(1);
  expect(await sweeper.sweep()).toBe(0);
  const published = (await readTopic(kafka, topics.wallet)).map((m) => JSON.parse(m.value!.toString()));
  expect(published).toEqual([{ id: 'old-hold-1', type: 'wallet.expire', account: 'acct-1' }]);
  expect(await redis.zrange(legacyExpiringKey(topics.wallet), 0, -1)).toEqual(['acct-2 later-hold-2']);
});
