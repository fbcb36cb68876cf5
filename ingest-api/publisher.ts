// ingest-api's side of the shared Kafka sender (common/kafka-sender.ts, which batches the requests of a
// moment into produce calls): admission before anything is queued, and each failure as the 503 the client
// gets, saying whether the transaction may be in the log. Every request's promise settles only with the
// acknowledgement of its own record.
import type { Message as KafkaRecord } from 'kafkajs';
import { KafkaSendError, RecordTooLargeError, type KafkaSender } from '../common/kafka-sender.ts';
import { limits } from '../common/limits.ts';
import { kafkaUnavailable, produceBatchSize, produceDuration, producesPending } from '../common/metrics.ts';
import { ApiError } from './errors.ts';

export interface PublisherOptions {
  /** Past this many waiting messages, publish() refuses at once (503) rather than queue without bound. */
  maxPending: number;
}

/** The sender's onCall for ingest-api: the produce metrics. */
export function observeProduceCall(records: number, seconds: number): void {
  produceBatchSize.observe(records);
  produceDuration.observe(seconds);
}

export class Publisher {
  constructor(
    private readonly sender: KafkaSender,
    private readonly opts: PublisherOptions,
  ) {}

  /** A producer is connected: nothing is known to be wrong with Kafka. */
  get connected(): boolean {
    return this.sender.connected;
  }

  /** Resolves once Kafka acknowledged the records (acks=all); rejects with the ApiError to answer otherwise. */
  publish(items: Array<{ topic: string; record: KafkaRecord }>): Promise<void> {
    if (!this.sender.connected) {
      kafkaUnavailable.inc({ reason: 'disconnected' });
      return Promise.reject(
        new ApiError(503, 'kafka_unavailable', 'Kafka is not reachable; nothing was published', undefined, 2, {
          published: 'no',
        }),
      );
    }
    if (this.sender.pending + items.length > this.opts.maxPending) {
      kafkaUnavailable.inc({ reason: 'overloaded' });
      return Promise.reject(
        new ApiError(
          503,
          'overloaded',
          'too many transactions waiting for Kafka; nothing was published',
          undefined,
          1,
          { published: 'no' },
        ),
      );
    }
    const sent = this.sender.send(items.map(({ topic, record }) => ({ topic, messages: [record] })));
    producesPending.set(this.sender.pending);
    return sent.then(
      () => void producesPending.set(this.sender.pending),
      (e: Error) => {
        producesPending.set(this.sender.pending);
        throw refusal(e);
      },
    );
  }

  /** Waits until everything queued has been acknowledged or refused. */
  drain(): Promise<void> {
    return this.sender.drain();
  }
}

function refusal(e: Error): ApiError {
  if (e instanceof RecordTooLargeError) {
    return new ApiError(
      413,
      'transaction_too_large',
      `the transaction is over the ${limits.maxRecordBytes} bytes Kafka takes in one record; nothing was published`,
    );
  }
  if (e instanceof KafkaSendError && e.published === 'no') {
    kafkaUnavailable.inc({ reason: 'disconnected' });
    return new ApiError(503, 'kafka_unavailable', 'Kafka is not reachable; nothing was published', undefined, 2, {
      published: 'no',
    });
  }
  kafkaUnavailable.inc({ reason: 'produce_failed' });
  const why = e.cause instanceof Error ? e.cause.message : e.message;
  return new ApiError(
    503,
    'kafka_unavailable',
    `Kafka did not acknowledge (${why}): the transaction may be in the log; retry with the same id`,
    undefined,
    2,
    { published: 'unknown' },
  );
}
