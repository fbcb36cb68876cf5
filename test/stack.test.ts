import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { topics } from '../common/config.ts';
import { ensureTopics } from '../stack/topics.ts';

const services = inject('services');
const prefix = `t-${randomUUID().slice(0, 8)}`;
const kafka = new Kafka({ clientId: 'stack-test', brokers: services.kafkaBrokers, logLevel: logLevel.WARN });

describe('stack', () => {
  const admin = kafka.admin();
  afterAll(() => admin.disconnect());

  it('ensureTopics creates the five topics with 6 partitions, idempotently', async () => {
    await ensureTopics(services.kafkaBrokers, prefix, 6);
    await ensureTopics(services.kafkaBrokers, prefix, 6);
    await admin.connect();
    const names = Object.values(topics(prefix));
    const meta = await admin.fetchTopicMetadata({ topics: names });
    expect(meta.topics.map((t) => t.name).sort()).toEqual([...names].sort());
    for (const t of meta.topics) {
      expect(t.partitions).toHaveLength(6);
      for (const p of t.partitions) expect(p.leader).toBeGreaterThanOrEqual(0);
    }
  });

  it('kafkajs produces (acks -1) and consumes a message round trip', async () => {
    const topic = topics(prefix).results;
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `${prefix}-g` });
    try {
      await producer.connect();
      const value = `hello-${randomUUID()}`;
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value }] });
      expect(meta?.errorCode).toBe(0);

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
          },
        });
      });
      expect(got).toEqual({ key: 'k1', value });
    } finally {
      await producer.disconnect();
      await consumer.disconnect();
    }
  });

  it('Redis answers PING, with AOF on for the local stack', async () => {
    const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
      if (services.source !== 'env') {
        expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      }
    } finally {
      redis.disconnect();
    }
  });
});
