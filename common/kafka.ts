// kafkajs clients as txpipe uses them: acks=all idempotent producers, logs through our logger.
import { Kafka, Partitioners, logLevel, type LogEntry, type Producer } from 'kafkajs';
import './kafkajs-fix.ts';
import { createLogger } from './log.ts';

const kafkaLog = createLogger('kafkajs');

export function createKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (e: LogEntry) => {
      const { message, ...rest } = e.log;
      // kafkajs warns on every bounded-retry idempotent producer; we bound retries on purpose (below).
      if (message.startsWith('Limiting retries')) return;
      (e.level <= logLevel.ERROR ? kafkaLog.error : kafkaLog.warn)(message, { ns: e.namespace, ...rest });
    },
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 8 },
  });
}

/**
 * An idempotent producer (no duplicates from its own retries, order kept per partition). Its retries are
 * bounded so a request fails within seconds when Kafka is down (ingest answers 503); a message that did
 * land after all is a duplicate the processor's idempotency flag absorbs.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // The Java client's murmur2 partitioner: a key lands on the same partition whoever produces it.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
  });
}

const partitionerOfProducers = Partitioners.DefaultPartitioner();

/** The partition the producers (createProducer) send a keyed record to, of a topic with `partitions`. */
export function partitionOfKey(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitionerOfProducers({ topic: '', partitionMetadata, message: { key, value: null } });
}
