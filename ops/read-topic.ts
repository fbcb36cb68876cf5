// Reads a topic from its beginning up to its end as of the call, record by record, for the operator
// tools (verify --log, dlq) and the tests. kafkajs only consumes through a group: each read uses a
// throwaway group, deleted afterwards so reads leave nothing behind on the broker.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface TopicRecord {
  partition: number;
  message: KafkaMessage;
}

/** Calls `each` for every record up to the topic's current end (per partition, in offset order). */
export async function readTopicRecords(
  kafka: Kafka,
  topic: string,
  each: (r: TopicRecord) => void | Promise<void>,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `txpipe-reader-${randomUUID().slice(0, 8)}`;
  let seen = 0;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high)]));
    if (!remaining.size) return 0;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = remaining.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              await each({ partition, message });
              seen++;
              if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
              if (!remaining.size) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  return seen;
}

/** Every record of a topic up to its current end, in memory (tests and small topics). */
export async function readTopic(kafka: Kafka, topic: string): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await readTopicRecords(kafka, topic, (r) => {
    out.push(r);
  });
  return out;
}
