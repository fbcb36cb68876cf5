// Whether a consumer group has committed every partition of its topics up to the end: its lag is 0.
import type { Admin } from 'kafkajs';

export async function committedToEnd(admin: Admin, groupId: string, topics: string[]): Promise<boolean> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const t of committed) {
    for (const e of await admin.fetchTopicOffsets(t.topic)) {
      const at = t.partitions.find((x) => x.partition === e.partition)?.offset ?? '-1';
      if (e.high !== e.low && at !== e.high) return false;
    }
  }
  return true;
}
