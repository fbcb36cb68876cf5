// Every Prometheus metric txpipe exports, in one place so names and labels stay consistent.
// Labels are bounded sets (route, status, type, code, topic, partition): never an id or an account.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
let defaultsOn = false;

/** Node process metrics (CPU, memory, event-loop lag, GC); called once by each service's main. */
export function collectProcessMetrics(service: string): void {
  if (defaultsOn) return;
  defaultsOn = true;
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
}

// Accept and produce latencies sit in the low milliseconds; the top buckets catch stalls.
const fastBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const sizeBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export const ingestRequests = new Counter({
  name: 'txpipe_ingest_requests_total',
  help: 'HTTP requests answered by ingest-api, by route and status code.',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});
export const ingestRequestDuration = new Histogram({
  name: 'txpipe_ingest_request_duration_seconds',
  help: 'Time from request to response in ingest-api, by route.',
  labelNames: ['route'] as const,
  buckets: fastBuckets,
  registers: [registry],
});
export const ingestRejected = new Counter({
  name: 'txpipe_ingest_rejected_total',
  help: 'Requests refused before publishing, by error code.',
  labelNames: ['code'] as const,
  registers: [registry],
});
export const ingestAccepted = new Counter({
  name: 'txpipe_ingest_accepted_total',
  help: 'Transactions acknowledged by Kafka and answered 202, by type.',
  labelNames: ['type'] as const,
  registers: [registry],
});
export const produceDuration = new Histogram({
  name: 'txpipe_produce_duration_seconds',
  help: 'Duration of one produce call (a micro-batch) until Kafka acknowledged it.',
  buckets: fastBuckets,
  registers: [registry],
});
export const produceBatchSize = new Histogram({
  name: 'txpipe_produce_batch_size',
  help: 'Messages per produce call.',
  buckets: sizeBuckets,
  registers: [registry],
});
export const producesPending = new Gauge({
  name: 'txpipe_produce_pending',
  help: 'Messages waiting for a Kafka acknowledgement.',
  registers: [registry],
});
export const kafkaUnavailable = new Counter({
  name: 'txpipe_ingest_kafka_unavailable_total',
  help: 'Requests answered 503 because Kafka did not acknowledge or the produce queue was full.',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const processedMessages = new Counter({
  name: 'txpipe_processor_messages_total',
  help: 'Messages handled by the processor, by domain, type and outcome code (ok, a rejection code, duplicate, dlq).',
  labelNames: ['domain', 'type', 'code'] as const,
  registers: [registry],
});
export const luaDuration = new Histogram({
  name: 'txpipe_processor_lua_duration_seconds',
  help: 'Duration of one pipelined round of Lua commands, by domain.',
  labelNames: ['domain'] as const,
  buckets: fastBuckets,
  registers: [registry],
});
export const processorBatchSize = new Histogram({
  name: 'txpipe_processor_batch_size',
  help: 'Messages per Kafka batch handled by the processor.',
  buckets: sizeBuckets,
  registers: [registry],
});
export const commitDuration = new Histogram({
  name: 'txpipe_processor_commit_duration_seconds',
  help: 'Duration of an offset commit.',
  buckets: fastBuckets,
  registers: [registry],
});
export const endToEndLatency = new Histogram({
  name: 'txpipe_end_to_end_latency_seconds',
  help: 'Time from ingest acceptance (the message timestamp) to the outcome being recorded, by domain.',
  labelNames: ['domain'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});
export const consumerLag = new Gauge({
  name: 'txpipe_processor_consumer_lag',
  help: 'Messages between the last offset handled and the partition high watermark.',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});
export const redisRetries = new Counter({
  name: 'txpipe_processor_redis_retries_total',
  help: 'Times the processor paused a partition and retried because Redis failed.',
  registers: [registry],
});
export const sweeperExpirations = new Counter({
  name: 'txpipe_processor_sweeper_expirations_total',
  help: 'Expire commands published by the sweeper, by type.',
  labelNames: ['type'] as const,
  registers: [registry],
});
