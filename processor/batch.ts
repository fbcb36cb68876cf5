// One Kafka batch of one partition: decode, run the Lua commands in order, record outcomes, publish
// follow-ups, results and dead letters, and only then report the batch done (its offsets may be committed).
import type { ChainableCommander, Redis } from 'ioredis';
import type { KafkaMessage, Message as KafkaRecord, TopicMessages } from 'kafkajs';
import type { Topics } from '../common/config.ts';
import { isDomain, type Domain } from '../common/domains.ts';
import { groupByTopic, recordBytes, type KafkaSender } from '../common/kafka-sender.ts';
import { limits } from '../common/limits.ts';
import type { Logger } from '../common/log.ts';
import { describe, digestOf, encodeMessage, messageTypes, type Message } from '../common/messages/index.ts';
import { endToEndLatency, processedMessages } from '../common/metrics.ts';
import { writeConflict, writeDigest, writeOutcome, writeStep, type Outcome } from '../common/status.ts';
import { commandOf, keysOf } from './commands/index.ts';
import type { Next } from './commands/types.ts';
import { decode } from './decode.ts';
import { runScripts, runWrites, withRetry, type RetryHooks, type ScriptCall } from './run-scripts.ts';
import { writeExpiring } from './sweeper.ts';

export interface BatchDeps {
  redis: Redis;
  /** Shared by the partitions' batches (and the sweeper): their publishes go out in common produce calls. */
  sender: KafkaSender;
  topics: Topics;
  retentionMs: number;
  log: Logger;
}

export interface BatchInput {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

/** Everything a batch leaves behind, gathered before any of it is written. */
class Effects {
  readonly out: Array<{ topic: string; record: KafkaRecord }> = [];
  readonly statusWrites: Array<(p: ChainableCommander) => void> = [];
  publish(topic: string, record: KafkaRecord) {
    this.out.push({ topic, record });
  }
  topicMessages(): TopicMessages[] {
    return groupByTopic(this.out);
  }
}

/** Handles the batch; true once every effect is durable, false when abandoned (stop or rebalance). */
export async function handleBatch(deps: BatchDeps, input: BatchInput, hooks: RetryHooks): Promise<boolean> {
  const { topics, retentionMs } = deps;
  const decoded = input.messages.map((km) => decode(km.value));
  const calls: ScriptCall[] = [];
  decoded.forEach((d, i) => {
    if (!d.ok) return;
    const spec = commandOf(d.message);
    // "now" for the script is the message's own time, so a replay of the log decides the same way.
    const now = Number(input.messages[i]!.timestamp);
    calls.push({
      script: spec.script,
      keys: keysOf(d.message, spec),
      args: [digestOf(d.message), retentionMs, now, ...spec.args(d.message)],
    });
  });
  const replies = calls.length ? await runScripts(deps.redis, calls, hooks) : [];
  if (!replies) return false;

  const fx = new Effects();
  const now = Date.now();
  let r = 0;
  input.messages.forEach((km, i) => {
    const d = decoded[i]!;
    if (!d.ok) return deadLetter(fx, topics.dlq, input, km, d.reason);
    const reply = replies[r++]!;
    if ('failed' in reply) return deadLetter(fx, topics.dlq, input, km, `script error: ${reply.failed}`);

    const m = d.message;
    const spec = commandOf(m);
    const [code, fresh, ...ints] = reply;
    const values = Object.fromEntries(spec.result.map((name, j) => [name, ints[j] ?? 0]));
    const ingestedAt = Number(km.timestamp);
    const { domain, entity } = describe(m);
    processedMessages.inc({ domain, type: m.type, code: fresh ? code : 'duplicate' });

    const next: Next = spec.then
      ? spec.then(m, { code, values })
      : { publish: [], outcome: { type: m.type, code, result: values } };
    for (const f of next.publish) publishCommand(fx, topics, f, km.timestamp);
    // The sweeper's index of pending holds, kept beside the status record (outside Lua: another hash tag).
    const change = spec.expiring?.(m, { code, values }, ingestedAt);
    if (change) fx.statusWrites.push((p) => writeExpiring(p, topics[domain], entity, change));

    if (code === 'conflict') {
      // Another payload under an id already used: report it, and list it on the id's record beside the first
      // one's outcome (which stays), so its sender can learn it was dropped.
      fx.statusWrites.push((p) => writeConflict(p, m.id, digestOf(m), m.type, ingestedAt, retentionMs));
      fx.publish(topics.results, resultRecord({ id: m.id, type: m.type, status: 'rejected', code, ingestedAt, appliedAt: now, duplicate: false }));
      return;
    }
    // The client's own payload digest on its id's record, as ingest's claim writes it: an id whose claim
    // was skipped (Redis away) or lost still refuses another payload (422) once the processor has seen it.
    if (messageTypes[m.type].public) fx.statusWrites.push((p) => writeDigest(p, m.id, digestOf(m)));
    if (next.outcome) {
      const o: Outcome = {
        id: m.id, type: next.outcome.type, status: next.outcome.code === 'ok' ? 'applied' : 'rejected',
        code: next.outcome.code, result: next.outcome.result, ingestedAt, appliedAt: now, duplicate: !fresh,
      };
      fx.statusWrites.push((p) => writeOutcome(p, o, retentionMs));
      fx.publish(topics.results, resultRecord(o));
      if (fresh) endToEndLatency.observe({ domain }, (now - ingestedAt) / 1000);
    } else if (!next.silent) {
      fx.statusWrites.push((p) => writeStep(p, m.id, spec.transaction ?? m.type, spec.step ?? m.type, retentionMs));
    }
  });

  if (fx.statusWrites.length) {
    const ok = await runWrites(deps.redis, (p) => fx.statusWrites.forEach((w) => w(p)), hooks, fx.statusWrites.length * 2);
    if (!ok) return false;
  }
  const topicMessages = fx.topicMessages();
  if (topicMessages.length) {
    const sent = await withRetry(hooks, () => deps.sender.send(topicMessages).then(() => true));
    if (!sent) return false;
  }
  return true;
}

function deadLetter(fx: Effects, dlq: string, input: BatchInput, km: KafkaMessage, reason: string): void {
  processedMessages.inc({ domain: domainOfTopic(input.topic), type: 'unknown', code: 'dlq' });
  // The original bytes stay as they were; where they came from and why they failed travel in headers.
  const record: KafkaRecord = {
    key: km.key,
    value: km.value,
    headers: {
      ...km.headers,
      'txpipe-dlq-reason': reason,
      'txpipe-dlq-topic': input.topic,
      'txpipe-dlq-partition': String(input.partition),
      'txpipe-dlq-offset': km.offset,
    },
  };
  // A record near the broker's limit plus these headers could never be sent, and would be retried forever:
  // it goes without its value, which stays in its own topic at the offset named.
  if (recordBytes(record) > limits.maxRecordBytes) {
    record.headers!['txpipe-dlq-value-dropped'] = String(km.value?.length ?? 0);
    record.value = null;
  }
  fx.publish(dlq, record);
}

/** A follow-up step, keyed by its own entity, stamped with the original ingest time. */
function publishCommand(fx: Effects, topics: Topics, m: Message, timestamp: string): void {
  const { domain, entity } = describe(m);
  fx.publish(topics[domain], { key: entity, value: encodeMessage(m), timestamp });
}

function resultRecord(o: Outcome): KafkaRecord {
  return { key: o.id, value: JSON.stringify(o) };
}

function domainOfTopic(topic: string): Domain | 'unknown' {
  const d = topic.slice(topic.lastIndexOf('.') + 1);
  return isDomain(d) ? d : 'unknown';
}
