// One Kafka batch of one partition: decode, run the Lua commands in order, record outcomes, publish
// follow-ups, results and dead letters, and only then report the batch done (its offsets may be committed).
import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisClient } from '../common/redis.ts';
import type { KafkaMessage, Message as KafkaRecord, TopicMessages } from 'kafkajs';
import type { Retention, Topics } from '../common/config.ts';
import { isDomain, type Domain } from '../common/domains.ts';
import { groupByTopic, recordBytes, type KafkaSender } from '../common/kafka-sender.ts';
import { limits } from '../common/limits.ts';
import type { Logger } from '../common/log.ts';
import { entityOf, digestOf, encodeMessage, messageTypes, type Message } from '../common/messages/index.ts';
import { endToEndLatency, processedMessages } from '../common/metrics.ts';
import {
  announceChange,
  announceOutcome,
  writeConflict,
  writeDigest,
  writeOutcome,
  scriptRetention,
  writeStep,
  type Outcome,
} from '../common/status.ts';
import { commandOf, entryOf, keysOf } from './commands/index.ts';
import type { Next } from './commands/types.ts';
import { decode } from './decode.ts';
import { runScripts, runWrites, withRetry, type RetryHooks, type ScriptCall } from './run-scripts.ts';
import type { ScriptReply } from '../lua/scripts.ts';
import { writeExpiring } from './sweeper.ts';
import { producerHeader, producerOf } from '../common/keys.ts';

export interface BatchDeps {
  redis: RedisClient;
  /** Shared by the partitions' batches (and the sweeper): their publishes go out in common produce calls. */
  sender: KafkaSender;
  topics: Topics;
  retention: Retention;
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
  /**
   * What is told once the status records are written (outcomes to ingest's waiters and streams, changed
   * entities to the live streams). On one Redis, queued after them in the same pipeline: one connection, run
   * in order. On a cluster, a round of its own after theirs: a record and its announcement live on different
   * nodes, and a waiter woken first would read the record not yet there.
   */
  readonly announcements: Array<(p: ChainableCommander) => void> = [];
  /** '<domain> <entity>' of each entity a fresh reply may have changed: announced once for the live streams. */
  readonly changed = new Set<string>();
  /** Messages handled, by their metric labels: counted once a batch rather than once a message. */
  private readonly counts = new Map<string, { labels: { domain: string; type: string; code: string }; n: number }>();
  count(domain: string, type: string, code: string) {
    const key = `${domain} ${type} ${code}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { labels: { domain, type, code }, n: 1 });
  }
  recordCounts() {
    for (const { labels, n } of this.counts.values()) processedMessages.inc(labels, n);
  }
  publish(topic: string, record: KafkaRecord) {
    this.out.push({ topic, record });
  }
  topicMessages(): TopicMessages[] {
    return groupByTopic(this.out);
  }
}

/** Handles the batch; true once every effect is durable, false when abandoned (stop or rebalance). */
export async function handleBatch(deps: BatchDeps, input: BatchInput, hooks: RetryHooks): Promise<boolean> {
  const { topics, retention } = deps;
  const decoded = input.messages.map((incoming) => decode(incoming.value));
  const calls: ScriptCall[] = [];
  // Each decoded message's payload digest: the script's first argument, and the status record's.
  const digests: string[] = [];
  const retentionArg = scriptRetention(retention);
  decoded.forEach((item, i) => {
    if (!item.ok) return;
    const spec = commandOf(item.message);
    // "now" for the script is the message's own time, so a replay of the log decides the same way.
    const now = Number(input.messages[i]!.timestamp);
    const digest = digestOf(item.message);
    digests[i] = digest;
    calls.push({
      script: spec.script,
      keys: keysOf(item.message, spec),
      args: [digest, retentionArg, now, entryOf(input.messages[i]!.offset, item.message), ...spec.args(item.message)],
    });
  });
  const replies = calls.length ? await runScripts(deps.redis, calls, hooks) : [];
  if (!replies) return false;

  const effects = new Effects();
  const now = Date.now();
  let nextReply = 0;
  input.messages.forEach((incoming, i) => {
    const item = decoded[i]!;
    if (!item.ok) return deadLetter(effects, topics.dlq, input, incoming, item.reason);
    const reply = replies[nextReply++]!;
    if ('failed' in reply) return deadLetter(effects, topics.dlq, input, incoming, `script error: ${reply.failed}`);

    const m = item.message;
    const spec = commandOf(m);
    const [code, fresh, ...ints] = reply;
    const short = shortReply(spec.result.length, reply);
    if (short) return deadLetter(effects, topics.dlq, input, incoming, short);
    const values = Object.fromEntries(spec.result.map((name, j) => [name, ints[j] ?? 0]));
    const ingestedAt = Number(incoming.timestamp);
    const { domain, entity } = entityOf(m);
    effects.count(domain, m.type, fresh ? code : 'duplicate');
    if (fresh) effects.changed.add(`${domain} ${entity}`);

    const next: Next = spec.then
      ? spec.then(m, { code, values })
      : { publish: [], outcome: { type: m.type, code, result: values } };
    // Who sent it: ingest-api's header, which follow-up steps carry on; else the id's namespace.
    const sender = incoming.headers?.[producerHeader];
    const producer = sender === undefined ? producerOf(m.id) : String(sender);
    for (const followUp of next.publish) publishCommand(effects, topics, followUp, incoming.timestamp, producer);
    // The sweeper's index of pending holds, kept beside the status record (outside Lua: another hash tag).
    const change = spec.expiring?.(m, { code, values }, ingestedAt);
    if (change) effects.statusWrites.push((p) => writeExpiring(p, input.topic, input.partition, entity, change));

    if (code === 'conflict') {
      // Another payload under an id already used: report it, and list it on the id's record beside the first
      // one's outcome (which stays), so its sender can learn it was dropped.
      effects.statusWrites.push((p) =>
        writeConflict(p, m.id, digests[i]!, m.type, ingestedAt, retention.idempotencyWindowMs),
      );
      effects.publish(
        topics.results,
        resultRecord({
          id: m.id,
          producer,
          type: m.type,
          status: 'rejected',
          code,
          ingestedAt,
          appliedAt: now,
          duplicate: false,
        }),
      );
      return;
    }
    // The client's own payload digest on its id's record, as ingest's claim writes it: an id whose claim
    // was skipped (Redis away) or lost still refuses another payload (422) once the processor has seen it.
    if (messageTypes[m.type].public) effects.statusWrites.push((p) => writeDigest(p, m.id, digests[i]!));
    if (next.outcome) {
      const outcome: Outcome = {
        id: m.id,
        producer,
        type: next.outcome.type,
        status: next.outcome.code === 'ok' ? 'applied' : 'rejected',
        code: next.outcome.code,
        result: next.outcome.result,
        ingestedAt,
        appliedAt: now,
        duplicate: !fresh,
      };
      effects.statusWrites.push((p) => writeOutcome(p, outcome, retention.idempotencyWindowMs));
      effects.announcements.push((p) => announceOutcome(p, topics.results, outcome));
      effects.publish(topics.results, resultRecord(outcome));
      if (fresh) endToEndLatency.observe({ domain }, (now - ingestedAt) / 1000);
    } else if (!next.silent) {
      effects.statusWrites.push((p) =>
        writeStep(p, m.id, spec.transaction ?? m.type, spec.step ?? m.type, retention.idempotencyWindowMs),
      );
    }
  });

  effects.recordCounts();
  // Let go of what the rest of the batch does not need (the writes' closures keep this scope alive): kept
  // across its remaining rounds, it would outlive V8's young generation and be promoted.
  decoded.length = 0;
  calls.length = 0;
  replies.length = 0;
  for (const c of effects.changed) {
    const [domain, entity] = c.split(' ') as [string, string];
    effects.announcements.push((p) => announceChange(p, topics.results, domain, entity));
  }
  const rounds = isCluster(deps.redis)
    ? [effects.statusWrites, effects.announcements]
    : [effects.statusWrites.concat(effects.announcements)];
  for (const writes of rounds) {
    if (!writes.length) continue;
    const ok = await runWrites(deps.redis, (p) => writes.forEach((w) => w(p)), hooks, writes.length * 2);
    if (!ok) return false;
  }
  const topicMessages = effects.topicMessages();
  if (topicMessages.length) {
    const sent = await withRetry(hooks, () => deps.sender.send(topicMessages).then(() => true));
    if (!sent) return false;
  }
  return true;
}

/**
 * A script answers every value its command declares, a rejection too ('conflict' and 'not_due' carry none).
 * A fresh reply without them is a bug in the script: the message is dead-lettered, never recorded with
 * made-up numbers. A stored one (fresh 0) may predate that rule and keeps 0 for what it lacks.
 */
function shortReply(declared: number, [code, fresh, ...ints]: ScriptReply): string | undefined {
  if (!fresh || code === 'conflict' || code === 'not_due' || ints.length === declared) return undefined;
  return `script reply error: ${code} with ${ints.length} values, the command declares ${declared}`;
}

function deadLetter(effects: Effects, dlq: string, input: BatchInput, incoming: KafkaMessage, reason: string): void {
  effects.count(domainOfTopic(input.topic), 'unknown', 'dlq');
  // The original bytes stay as they were; where they came from and why they failed travel in headers.
  const record: KafkaRecord = {
    key: incoming.key,
    value: incoming.value,
    headers: {
      ...incoming.headers,
      'txpipe-dlq-reason': reason,
      'txpipe-dlq-topic': input.topic,
      'txpipe-dlq-partition': String(input.partition),
      'txpipe-dlq-offset': incoming.offset,
    },
  };
  // A record near the broker's limit plus these headers could never be sent, and would be retried forever:
  // it goes without its value, which stays in its own topic at the offset named.
  if (recordBytes(record) > limits.maxRecordBytes) {
    record.headers!['txpipe-dlq-value-dropped'] = String(incoming.value?.length ?? 0);
    record.value = null;
  }
  effects.publish(dlq, record);
}

/** A follow-up step, keyed by its own entity, stamped with the original ingest time. */
function publishCommand(
  effects: Effects,
  topics: Topics,
  m: Message,
  timestamp: string,
  producer: string | undefined,
): void {
  const { domain, entity } = entityOf(m);
  effects.publish(topics[domain], {
    key: entity,
    value: encodeMessage(m),
    timestamp,
    ...(producer !== undefined && { headers: { [producerHeader]: producer } }),
  });
}

function resultRecord(outcome: Outcome): KafkaRecord {
  return { key: outcome.id, value: JSON.stringify(outcome) };
}

function domainOfTopic(topic: string): Domain | 'unknown' {
  const name = topic.slice(topic.lastIndexOf('.') + 1);
  return isDomain(name) ? name : 'unknown';
}
