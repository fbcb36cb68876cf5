// verify --log: every outcome in <prefix>.results must have left its effect in Redis, the status record
// GET /v1/transactions/:id reads, with the same status and code. Records are read from the topic in
// chunks, so memory stays bounded by the chunk, not the log.
import type { Cluster, Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Topics } from '../common/config.ts';
import { readStatusFields, statusFields, type Outcome } from '../common/status.ts';
import { readTopicRecords } from './read-topic.ts';
import type { Violation } from './verify.ts';
import { statusKey } from '../common/keys.ts';

export interface LogCheckOptions {
  kafka: Kafka;
  lookup: Redis | Cluster;
  topics: Topics;
  /** Status records live this long (the idempotency window): an outcome older than that may be gone from Redis by design. */
  retentionMs: number;
  progress?: (line: string) => void;
}

const chunk = 500;

export async function verifyLog(o: LogCheckOptions): Promise<{ outcomes: number; violations: Violation[] }> {
  const violations: Violation[] = [];
  let batch: Outcome[] = [];
  let outcomes = 0;
  let lastProgress = Date.now();
  const flush = async () => {
    const records = batch;
    batch = [];
    const now = Date.now();
    const found = await Promise.all(records.map((r) => o.lookup.hmget(statusKey(r.id), ...statusFields)));
    records.forEach((r, i) => {
      const outcome = readStatusFields(found[i]!)?.outcome;
      const [status, code] = outcome ? [outcome.status, outcome.code] : [null, null];
      if (status === null && r.ingestedAt + o.retentionMs < now) return;
      if (status !== r.status || code !== r.code) {
        violations.push({
          check: 'log_outcome',
          entity: statusKey(r.id),
          message: `results says ${r.status} ${r.code}, Redis ${status === null ? 'has no outcome' : `says ${status} ${code}`}`,
          numbers: {
            type: r.type,
            logStatus: r.status,
            logCode: r.code,
            redisStatus: status ?? '(none)',
            redisCode: code ?? '(none)',
          },
        });
      }
    });
  };
  await readTopicRecords(o.kafka, o.topics.results, async ({ message }) => {
    const r = JSON.parse(message.value?.toString() ?? 'null') as Outcome | null;
    // A conflict is the dropped payload's notice: the id's record keeps the first payload's outcome.
    if (!r || r.code === 'conflict') return;
    outcomes++;
    batch.push(r);
    if (batch.length >= chunk) await flush();
    if (o.progress && Date.now() - lastProgress > 2000) {
      lastProgress = Date.now();
      o.progress(`verify --log: ${outcomes} outcomes read, ${violations.length} violations`);
    }
  });
  await flush();
  return { outcomes, violations };
}
