// Consumer lag, measured from Kafka rather than from the batches we happen to receive: every few seconds,
// for each partition assigned to this instance, high watermark minus the group's committed offset.
// So the gauge keeps rising while a partition is stuck (Redis down) and reads 0 when it is idle and done.
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../common/log.ts';
import { consumerLag } from '../common/metrics.ts';

export type Assignment = Record<string, number[]>;

export interface LagWatcher {
  /** The partitions this instance now owns (from GROUP_JOIN; empty after a crash); measures at once. */
  assign(assignment: Assignment): void;
  stop(): Promise<void>;
}

export function watchLag(kafka: Kafka, groupId: string, log: Logger, intervalMs = 5000): LagWatcher {
  let assignment: Assignment = {};
  let admin: Admin | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;
  let warned = false;

  async function measure(): Promise<void> {
    const owned = assignment;
    const topics = Object.keys(owned).filter((t) => owned[t]!.length);
    if (!topics.length) return consumerLag.reset();
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId, topics }),
      Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin!.fetchTopicOffsets(topic) }))),
    ]);
    if (owned !== assignment) return; // reassigned meanwhile: the next round measures the new set
    const done = new Map(
      committed.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, Number(p.offset)] as const)),
    );
    consumerLag.reset();
    for (const { topic, partitions } of ends) {
      for (const p of partitions) {
        if (!owned[topic]!.includes(p.partition)) continue;
        const at = done.get(`${topic}/${p.partition}`) ?? -1;
        // No commit yet: the group starts from the beginning, so everything retained is lag.
        const from = at >= 0 ? at : Number(p.low);
        consumerLag.set({ topic, partition: String(p.partition) }, Math.max(0, Number(p.high) - from));
      }
    }
  }

  function tick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = measure()
      .then(() => {
        warned = false;
      })
      .catch((e: Error) => {
        if (!warned) log.warn('consumer lag not measured', { error: e.message });
        warned = true;
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          tick();
        }
      });
  }

  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    assign(next) {
      assignment = next;
      tick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
