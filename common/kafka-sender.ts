// One coalescing Kafka sender for everything a service publishes (ingest-api's transactions, the
// processor's follow-ups, results and dead letters, the sweeper's expire commands). Callers queue their
// records; one produce call (acks=all) is in flight at a time, the idempotent producer's own limit, and
// what queued meanwhile goes in the next calls, grouped by topic, each caller's records in order. A call
// carries at most limits.maxProduceBytes (kafkajs writes a call's records for one partition as one record
// batch, which the broker refuses above message.max.bytes), so a large caller never makes the others fail.
//
// After any failed call the producer is replaced by a fresh one, with a new producer id. kafkajs 2.2.4's
// idempotent producer numbers each partition's records and, when a call fails, rolls the numbers back
// (producer/sendMessages.js: updateSequence(-n) on any produce error) — also when the broker did append the
// records and only its answer was lost. Its next call reuses the numbers: the broker takes it for a retry
// of what it holds and acknowledges it without writing it (an acknowledged record that is not in the log),
// or answers OUT_OF_ORDER_SEQUENCE_NUMBER to that call and every later one on the partition. The numbers
// are only right again under a new producer id, which starts every partition at 0 (what the Java client
// does too when a batch's fate is unknown: it resets the producer id).
import { type Message as KafkaRecord, type Producer, type TopicMessages } from 'kafkajs';
import { limits } from './limits.ts';
import type { Logger } from './log.ts';

/** What a failed send says about its records: certainly not in the log, or maybe in it. */
export type Published = 'no' | 'unknown';

/** A send that failed (named KafkaJS* like kafkajs's own errors: a Kafka failure, for the retry metrics). */
export class KafkaSendError extends Error {
  override name = 'KafkaJSSendError';
  constructor(
    message: string,
    readonly published: Published,
    cause?: Error,
  ) {
    super(message, { cause });
  }
}

/** A record that no produce call can carry: refused before anything is sent. */
export class RecordTooLargeError extends KafkaSendError {
  override name = 'KafkaJSRecordTooLargeError';
  constructor(readonly bytes: number) {
    super(`a record of ${bytes} bytes is over the ${limits.maxRecordBytes} bytes a produce call can carry`, 'no');
  }
}

/** Records in order, grouped by topic as a produce call takes them (each topic's records in their order). */
export function groupByTopic(items: Iterable<{ topic: string; record: KafkaRecord }>): TopicMessages[] {
  const byTopic = new Map<string, KafkaRecord[]>();
  for (const { topic, record } of items) {
    const list = byTopic.get(topic);
    if (list) list.push(record);
    else byTopic.set(topic, [record]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** A record's size as the broker counts it, near enough: value, key and headers, plus per-record framing. */
export function recordBytes(r: KafkaRecord): number {
  const size = (v: unknown) => (v == null ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v)));
  let n = size(r.value) + size(r.key) + 32;
  for (const [name, v] of Object.entries(r.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) n += Buffer.byteLength(name) + size(one) + 8;
  }
  return n;
}

interface Item {
  topic: string;
  record: KafkaRecord;
  bytes: number;
}

interface Caller {
  items: Item[];
  /** The first item not yet given to a call. */
  next: number;
  /** Calls carrying its items that have not answered yet. */
  open: number;
  /** Some of its items went out in a call: if it fails now, they may be in the log. */
  sent: boolean;
  /** A merged call with it failed: its items go in calls of their own, so it fails (or succeeds) alone. */
  alone: boolean;
  resolve(): void;
  reject(e: KafkaSendError): void;
}

interface Call {
  parts: Array<{ caller: Caller; from: number; to: number }>;
  topicMessages: TopicMessages[];
  records: number;
}

export interface KafkaSenderOptions {
  /** A new idempotent producer (common/kafka.ts createProducer), not connected. */
  create(): Producer;
  log: Logger;
  maxCallRecords?: number;
  /** Each acknowledged call: its record count and duration. */
  onCall?(records: number, seconds: number): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KafkaSender {
  private producer: Producer | undefined;
  /** The reconnect loop after a failure, and its first attempt. */
  private reconnecting: { loop: Promise<void>; first: Promise<void> } | undefined;
  private queue: Caller[] = [];
  private pumping = false;
  /** Records in the queue not yet given to a call, and those of the call in flight. */
  private queued = 0;
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly opts: KafkaSenderOptions) {}

  /** True while a producer is connected; false from a failed call until a fresh producer connected. */
  get connected(): boolean {
    return this.producer !== undefined;
  }

  /** Records queued or in flight. */
  get pending(): number {
    return this.queued + this.inFlight;
  }

  /** One attempt to connect a producer; rejects when Kafka does not answer. */
  async connect(): Promise<void> {
    if (this.producer) return;
    const producer = this.opts.create();
    try {
      await withDeadline(producer.connect(), limits.produceTimeoutMs);
    } catch (e) {
      await producer.disconnect().catch(() => undefined);
      throw e;
    }
    if (this.stopped) return void (await producer.disconnect().catch(() => undefined));
    this.producer = producer;
  }

  /**
   * Resolves once Kafka acknowledged every record (acks=all); rejects with a KafkaSendError saying whether
   * the records may be in the log. Refused at once, nothing sent, while no producer is connected.
   */
  send(topicMessages: TopicMessages[]): Promise<void> {
    if (!this.producer) {
      return Promise.reject(
        new KafkaSendError('no producer connected to Kafka (reconnecting after a failure); nothing was sent', 'no'),
      );
    }
    const items = topicMessages.flatMap(({ topic, messages }) =>
      messages.map((record) => ({ topic, record, bytes: recordBytes(record) })),
    );
    const tooLarge = items.find((it) => it.bytes > limits.maxRecordBytes);
    if (tooLarge) return Promise.reject(new RecordTooLargeError(tooLarge.bytes));
    if (!items.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ items, next: 0, open: 0, sent: false, alone: false, resolve, reject });
      this.queued += items.length;
      if (!this.pumping) {
        // After this turn: the records queued in the same turn go in the same call.
        this.pumping = true;
        setImmediate(() => void this.pump());
      }
    });
  }

  private async pump(): Promise<void> {
    while (this.queue.length) {
      const producer = this.producer;
      if (!producer) {
        this.rejectQueued();
        break;
      }
      const call = this.nextCall();
      this.inFlight = call.records;
      const started = performance.now();
      try {
        await withDeadline(
          producer.sendBatch({ acks: -1, topicMessages: call.topicMessages }),
          limits.produceTimeoutMs,
        );
        this.opts.onCall?.(call.records, (performance.now() - started) / 1000);
        for (const { caller } of call.parts) {
          caller.open--;
          if (caller.open === 0 && caller.next === caller.items.length) caller.resolve();
        }
      } catch (e) {
        this.replace(producer, e as Error);
        this.failed(call, e as Error);
        // The callers to send alone wait for the fresh producer's first attempt, not for a whole outage.
        if (this.queue.some((c) => c.alone)) await this.reconnecting?.first;
      } finally {
        this.inFlight = 0;
      }
    }
    this.pumping = false;
  }

  /** The next call: the head caller alone if it must be, else callers in order up to the byte budget. */
  private nextCall(): Call {
    const parts: Call['parts'] = [];
    const taken: Item[] = [];
    const maxRecords = this.opts.maxCallRecords ?? Infinity;
    let bytes = 0;
    let records = 0;
    for (const caller of this.queue) {
      if (records > 0 && caller.alone) break;
      const from = caller.next;
      while (caller.next < caller.items.length && records < maxRecords) {
        const it = caller.items[caller.next]!;
        if (records > 0 && bytes + it.bytes > limits.maxProduceBytes) break;
        bytes += it.bytes;
        records++;
        caller.next++;
        taken.push(it);
      }
      if (caller.next > from) {
        parts.push({ caller, from, to: caller.next });
        caller.open++;
        caller.sent = true;
      }
      if (caller.next < caller.items.length || caller.alone) break;
    }
    this.queued -= records;
    // Callers whose every item is in a call leave the queue; they settle with their calls.
    while (this.queue.length && this.queue[0]!.next === this.queue[0]!.items.length) this.queue.shift();
    return { parts, records, topicMessages: groupByTopic(taken) };
  }

  /**
   * A failed call: a caller that shared it with others is sent again on its own (first in line), so one
   * caller whose records the broker refuses cannot fail the rest; a caller alone in it fails.
   */
  private failed(call: Call, e: Error): void {
    const merged = call.parts.length > 1;
    // Only the call's last caller can still be queued (at the head): it had more items than the call took.
    const head = this.queue[0];
    const again: Caller[] = [];
    for (const { caller, from, to } of call.parts) {
      caller.open--;
      if (merged && !caller.alone) {
        caller.alone = true;
        caller.next = from;
        this.queued += to - from;
        if (caller !== head) again.push(caller);
      } else {
        if (caller === head) {
          this.queue.shift();
          this.queued -= caller.items.length - caller.next;
        }
        caller.reject(
          new KafkaSendError(`Kafka did not acknowledge: ${e.message}; the records may be in the log`, 'unknown', e),
        );
      }
    }
    this.queue.unshift(...again);
  }

  private rejectQueued(): void {
    const queued = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const c of queued) {
      c.reject(
        c.sent
          ? new KafkaSendError(
              'Kafka did not acknowledge and no producer is connected; the records may be in the log',
              'unknown',
            )
          : new KafkaSendError('no producer connected to Kafka (reconnecting after a failure); nothing was sent', 'no'),
      );
    }
  }

  /** Drops a producer whose call failed (its sequence numbers cannot be trusted) and connects a fresh one. */
  private replace(failed: Producer, e: Error): void {
    if (this.producer !== failed) return;
    this.producer = undefined;
    this.opts.log.warn('produce call failed: replacing the producer (a fresh producer id)', { error: e.message });
    // Closing its connections also ends a call still retrying inside kafkajs after the deadline.
    void failed.disconnect().catch(() => undefined);
    if (this.reconnecting || this.stopped) return;
    let first!: () => void;
    const firstAttempt = new Promise<void>((r) => (first = r));
    const loop = (async () => {
      for (let attempt = 1; !this.stopped && !this.producer; attempt++) {
        try {
          await this.connect();
          this.opts.log.info('fresh producer connected', { attempts: attempt });
        } catch (err) {
          if (attempt === 1 || attempt % 10 === 0)
            this.opts.log.warn('waiting for Kafka to connect a fresh producer', {
              attempt,
              error: (err as Error).message,
            });
          first();
          await sleep(1000);
        }
        first();
      }
      this.reconnecting = undefined;
    })();
    this.reconnecting = { loop, first: firstAttempt };
  }

  /** Waits until everything queued has been acknowledged or refused. */
  async drain(): Promise<void> {
    while (this.pending > 0 || this.pumping) await sleep(10);
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    await this.reconnecting?.loop;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}

/** The promise, or a rejection once `ms` passed without an answer (the promise itself goes on). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Kafka within ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
