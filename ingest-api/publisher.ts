// Micro-batching: concurrent requests share one acks=all produce call instead of a round trip each.
// One produce call is in flight at a time (the idempotent producer's own limit); what arrives meanwhile
// goes together in the next one. The waiting for more requests happens before, in window.ts. Every
// request's promise settles only with its own batch's acknowledgement.
import type { Message as KafkaRecord, Producer } from 'kafkajs';
import { kafkaUnavailable, produceBatchSize, produceDuration, producesPending } from '../common/metrics.ts';
import { ApiError } from './errors.ts';

interface Pending {
  topic: string;
  record: KafkaRecord;
  resolve: () => void;
  reject: (e: ApiError) => void;
}

export interface PublisherOptions {
  /** Past this many waiting messages, publish() refuses at once (503) rather than queue without bound. */
  maxPending: number;
  /** Messages per produce call. */
  maxBatch: number;
}

export class Publisher {
  private queue: Pending[] = [];
  private sending = false;
  private inFlight = 0;
  connected = false;

  constructor(private readonly producer: Producer, private readonly opts: PublisherOptions) {}

  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Resolves once Kafka acknowledged the records (acks=all); rejects with a 503 ApiError otherwise. */
  publish(items: Array<{ topic: string; record: KafkaRecord }>): Promise<void> {
    if (!this.connected) {
      kafkaUnavailable.inc({ reason: 'disconnected' });
      return Promise.reject(new ApiError(503, 'kafka_unavailable', 'Kafka is not reachable; nothing was published', undefined, 2));
    }
    if (this.pending + items.length > this.opts.maxPending) {
      kafkaUnavailable.inc({ reason: 'overloaded' });
      return Promise.reject(new ApiError(503, 'overloaded', 'too many transactions waiting for Kafka; nothing was published', undefined, 1));
    }
    const all = items.map(
      ({ topic, record }) =>
        new Promise<void>((resolve, reject) => this.queue.push({ topic, record, resolve, reject })),
    );
    producesPending.set(this.pending);
    this.schedule();
    return items.length === 1 ? all[0]! : Promise.all(all).then(() => undefined);
  }

  private schedule() {
    if (this.sending) return;
    // After this turn: the records queued in the same turn go in the same call.
    this.sending = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.inFlight = batch.length;
    const byTopic = new Map<string, KafkaRecord[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.record);
      byTopic.set(p.topic, list);
    }
    const stop = produceDuration.startTimer();
    produceBatchSize.observe(batch.length);
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      stop();
      for (const p of batch) p.resolve();
    } catch (e) {
      kafkaUnavailable.inc({ reason: 'produce_failed' });
      const err = new ApiError(503, 'kafka_unavailable', `Kafka did not acknowledge: ${(e as Error).message}`, undefined, 2);
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight = 0;
      this.sending = false;
      producesPending.set(this.pending);
      if (this.queue.length) {
        // More arrived while this batch was in flight: send them now, they have already waited.
        this.sending = true;
        setImmediate(() => void this.flush());
      }
    }
  }

  /** Waits until everything queued has been acknowledged or refused. */
  async drain(): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
