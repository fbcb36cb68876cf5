// Creates the pipeline's topics (idempotent): one per domain, results and dlq.
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { topics } from '../common/config.ts';
import { sleep } from './proc.ts';

/**
 * `replicationFactor` copies of each partition (the brokers' count, at most 3); with more than one, a write
 * needs all but one of them in sync (min.insync.replicas), so acks=all never means a single copy.
 */
export async function ensureTopics(
  brokers: string[],
  prefix: string,
  partitions: number,
  replicationFactor = 1,
): Promise<void> {
  const names = Object.values(topics(prefix));
  const admin = new Kafka({ clientId: 'txpipe-stack-topics', brokers, logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((t) => !existing.has(t));
    if (missing.length) {
      // Resolves false when another caller created them first; that is fine.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor,
          configEntries: [
            { name: 'min.insync.replicas', value: String(Math.max(1, replicationFactor - 1)) },
            { name: 'unclean.leader.election.enable', value: 'false' },
          ],
        })),
      });
    }
    // Existing topics too: a broker that just restarted may not have elected leaders yet.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = meta.topics.filter((t) => t.partitions.some((p) => p.leader < 0));
      if (!leaderless.length) {
        const odd = meta.topics.filter((t) => t.partitions.length !== partitions);
        for (const t of odd) {
          console.warn(`topic ${t.name} has ${t.partitions.length} partitions, not ${partitions} (left as is)`);
        }
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`topics without partition leaders after 30 s: ${leaderless.map((t) => t.name).join(', ')}`);
      }
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
  await warmUpCoordinators(brokers);
}

/**
 * A fresh broker creates its producer-id and group-coordinator state lazily, and until then answers
 * "coordinator is loading": kafkajs retries but logs each try as an ERROR. Touching both here, quietly,
 * keeps those out of the apps' logs. Cheap (a few ms) once warm.
 */
export async function warmUpCoordinators(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'txpipe-stack-warmup', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  try {
    await Promise.all([producer.connect(), admin.connect().then(() => admin.describeGroups(['txpipe-warmup']))]);
  } finally {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  }
}
