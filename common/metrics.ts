// Every Prometheus metric txpipe exports, in one place so names and labels stay consistent.
// Each metric belongs to the service that observes it; a service's /metrics serves only its own
// (plus the Node process metrics), so ingest-api never shows a processor metric stuck at zero.
// Labels are bounded sets (route, status, type, code, reason, domain, script, topic, partition):
// never a transaction id or an account.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { domains } from './domains.ts';

export type Service = 'ingest-api' | 'processor';

/** What the service's /metrics serves: filled by collectProcessMetrics(). */
export const registry = new Registry();
const owned: Record<Service, Metric[]> = { 'ingest-api': [], processor: [] };
let serving: Service | undefined;

/** Registers the service's own metrics and the Node process metrics (CPU, memory, event-loop lag, GC); once per process. */
export function collectProcessMetrics(service: Service): void {
  if (serving) return;
  serving = service;
  registry.setDefaultLabels({ service });
  for (const m of owned[service]) registry.registerMetric(m);
  collectDefaultMetrics({ register: registry });
}

/** Every txpipe metric by service, for the docs (README table) and their test. */
export function definitions(): Array<{ service: Service; name: string; type: string; labels: string[]; help: string }> {
  return (Object.keys(owned) as Service[]).flatMap((service) =>
    owned[service].map((m) => {
      const { name, help, labelNames = [] } = m as unknown as { name: string; help: string; labelNames?: string[] };
      const type = m instanceof Counter ? 'counter' : m instanceof Gauge ? 'gauge' : 'histogram';
      return { service, name, type, labels: [...labelNames], help };
    }),
  );
}

const of = <M extends Metric>(service: Service, metric: M): M => {
  owned[service].push(metric);
  return metric;
};
const counter = <L extends string>(service: Service, name: string, help: string, labelNames: readonly L[] = []) =>
  of(service, new Counter({ name, help, labelNames, registers: [] }));
const gauge = <L extends string>(service: Service, name: string, help: string, labelNames: readonly L[] = []) =>
  of(service, new Gauge({ name, help, labelNames, registers: [] }));
const histogram = <L extends string>(
  service: Service,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
) => of(service, new Histogram({ name, help, buckets, labelNames, registers: [] }));

// Accept, produce and commit latencies sit in the low milliseconds; the top buckets catch stalls.
const fastBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// One script call's share of a pipelined round: tens of microseconds when healthy.
const scriptBuckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1];
// End to end: the target is p99 under 100 ms, so the buckets are dense around it.
const endToEndBuckets = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const sizeBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

// ---- ingest-api ----

export const ingestRequests = counter(
  'ingest-api',
  'txpipe_ingest_requests_total',
  'HTTP requests answered by ingest-api, by route (the Express route pattern, or "unmatched") and status code.',
  ['route', 'status'],
);
export const ingestRequestDuration = histogram(
  'ingest-api',
  'txpipe_ingest_request_duration_seconds',
  'Time from request to response in ingest-api, by route.',
  fastBuckets,
  ['route'],
);
export const ingestRejected = counter(
  'ingest-api',
  'txpipe_ingest_rejected_total',
  'Requests answered with an error, by the error code of the body.',
  ['code'],
);
export const ingestAccepted = counter(
  'ingest-api',
  'txpipe_ingest_accepted_total',
  'Transactions acknowledged by Kafka and answered 202, by type.',
  ['type'],
);
export const kafkaUnavailable = counter(
  'ingest-api',
  'txpipe_ingest_kafka_unavailable_total',
  'Requests answered 503 because Kafka was disconnected, did not acknowledge, or the produce queue was full.',
  ['reason'],
);
export const produceDuration = histogram(
  'ingest-api',
  'txpipe_ingest_produce_duration_seconds',
  'Duration of one produce call (a micro-batch) until Kafka acknowledged it.',
  fastBuckets,
);
export const produceBatchSize = histogram(
  'ingest-api',
  'txpipe_ingest_produce_batch_messages',
  'Messages per produce call.',
  sizeBuckets,
);
export const producesPending = gauge(
  'ingest-api',
  'txpipe_ingest_produce_inflight_messages',
  'Messages queued or sent to Kafka and not yet acknowledged.',
);
export const outcomeWaiters = gauge(
  'ingest-api',
  'txpipe_ingest_outcome_waiters',
  "Requests waiting for a transaction's outcome (?wait=), at most maxWaiters.",
);
export const authFailures = counter(
  'ingest-api',
  'txpipe_ingest_auth_failures_total',
  'Requests refused 401 (producer "unknown") or 403 (outside the key\'s scope), by producer, code and reason (missing, malformed, unknown, revoked, scope).',
  ['producer', 'code', 'reason'],
);
export const rateLimited = counter(
  'ingest-api',
  'txpipe_ingest_rate_limited_total',
  "Requests refused 429 because the key's token bucket was empty, by producer.",
  ['producer'],
);
export const producerTransactions = counter(
  'ingest-api',
  'txpipe_ingest_producer_transactions_total',
  'Transactions answered by ingest-api per producer ("anonymous" with authentication off): accepted (202 or a batch item), refused (an error) or limited (429: a batch counts its items).',
  ['producer', 'outcome'],
);

// ---- processor ----

export const processedMessages = counter(
  'processor',
  'txpipe_processor_messages_total',
  'Messages handled by the processor, by domain, type and outcome code (ok, a rejection code, duplicate, dlq).',
  ['domain', 'type', 'code'],
);
export const luaDuration = histogram(
  'processor',
  'txpipe_processor_lua_duration_seconds',
  "Redis time per Lua script call, by script: each pipelined round's duration shared evenly among its calls.",
  scriptBuckets,
  ['script'],
);
export const processorBatchSize = histogram(
  'processor',
  'txpipe_processor_batch_messages',
  'Messages per Kafka batch handled by the processor.',
  sizeBuckets,
);
export const commitDuration = histogram(
  'processor',
  'txpipe_processor_commit_duration_seconds',
  'Duration of an offset commit request to the group coordinator.',
  fastBuckets,
);
export const endToEndLatency = histogram(
  'processor',
  'txpipe_end_to_end_latency_seconds',
  'Time from ingest acceptance (the message timestamp) to the outcome being recorded, by domain.',
  endToEndBuckets,
  ['domain'],
);
export const consumerLag = gauge(
  'processor',
  'txpipe_processor_consumer_lag_messages',
  "Messages between the group's committed offset and the high watermark, for each partition assigned to this instance.",
  ['topic', 'partition'],
);
export const redisRetries = counter(
  'processor',
  'txpipe_processor_redis_retries_total',
  'Rounds retried after Redis failed (the partition waits, nothing is committed).',
);
export const kafkaRetries = counter(
  'processor',
  'txpipe_processor_kafka_retries_total',
  'Rounds retried after publishing outcomes, follow-ups or dead letters to Kafka failed.',
);
export const pausedPartitions = gauge(
  'processor',
  'txpipe_processor_paused_partitions',
  'Partitions whose batch is waiting to retry after a Redis or Kafka failure.',
);
export const sweeperExpirations = counter(
  'processor',
  'txpipe_processor_sweeper_expirations_total',
  'Expire commands published by the sweeper, by type.',
  ['type'],
);

export const rewinds = counter(
  'processor',
  'txpipe_processor_rewinds_total',
  'Times a partition was sought back because Redis had lost writes the processor had applied (its watermark was behind).',
  ['topic'],
);
export const rewoundMessages = counter(
  'processor',
  'txpipe_processor_rewound_messages_total',
  'Offsets moved back over by rewinds: the messages applied again because Redis had lost them.',
  ['topic'],
);
export const refusedPartitions = gauge(
  'processor',
  'txpipe_processor_refused_partitions',
  'Partitions the processor refuses to go on with: a replay that would reach past the flag retention, or a log that no longer holds what Redis needs.',
);

// Known label values start at zero, so rate() and increase() (the DLQ alert) count the very first event.
for (const reason of ['disconnected', 'overloaded', 'produce_failed']) kafkaUnavailable.inc({ reason }, 0);
for (const domain of domains) processedMessages.inc({ domain, type: 'unknown', code: 'dlq' }, 0);
for (const domain of domains) sweeperExpirations.inc({ type: `${domain}.expire` }, 0);
for (const reason of ['missing', 'malformed', 'unknown', 'revoked'])
  authFailures.inc({ producer: 'unknown', code: 'unauthenticated', reason }, 0);
