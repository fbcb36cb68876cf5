// Test harness: runs the real ingest-api and processor as child processes against the run's Kafka and
// Redis (test/global-setup.ts), each test file on its own topic prefix, so files cannot see each other.
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import { topics as topicNames, type Topics } from '../common/config.ts';
import { ensureTopics } from '../stack/topics.ts';
import { freePort } from '../stack/ports.ts';
import { Service, waitFor } from '../stack/app-service.ts';
import { readTopic as readTopicRecords } from '../ops/read-topic.ts';
import { scopedId, statusKey } from '../common/keys.ts';
import { readStatus, type StatusRecord } from '../common/status.ts';
import { parseNode, type RedisClient } from '../common/redis.ts';
import { pipeline } from '../common/redis-batch.ts';
import { testKey } from './keys.ts';

export const services = () => inject('services');

export { Service, sleep, waitFor } from '../stack/app-service.ts';
export { pipeline } from '../common/redis-batch.ts';

export const uid = (label = 'x') => `${label}-${randomUUID().slice(0, 8)}`;

export interface Pipeline {
  prefix: string;
  /** Partitions of each of its topics. */
  partitions: number;
  topics: Topics;
  ingestUrl: string;
  /** The run's Redis, or a cluster client on a cluster run: `pipeline(p.redis)` for commands across entities. */
  redis: RedisClient;
  kafka: Kafka;
  /** The pipeline's API key (every type, every read; its producer `test`) as request headers. */
  auth: Record<string, string>;
  /** Its keys file (test/keys.ts addKey, revoke). */
  keysFile: string;
  /** The namespace of the pipeline key's ids (undefined: stored as sent; see test/keys.ts). */
  namespace?: string;
  ingest: Service;
  processor: Service;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export interface PipelineOptions {
  partitions?: number;
  env?: NodeJS.ProcessEnv;
  /** On top of `env`, for one service only (e.g. its TXPIPE_KAFKA_BROKERS through a fault proxy). */
  ingestEnv?: NodeJS.ProcessEnv;
  processorEnv?: NodeJS.ProcessEnv;
  /** A command the processor runs under (Service's wrapper). */
  processorWrapper?: string[];
  /** false: ingest-api only. */
  processor?: boolean;
  /** false: wait for /healthz instead of /readyz (for tests of an unready service). */
  ready?: boolean;
  /** Kafka and Redis of the test's own (a cluster it kills nodes of), instead of the run's. */
  services?: ReturnType<typeof services>;
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const { kafkaBrokers, redisUrl, redisCluster, replication } = opts.services ?? services();
  const prefix = uid('t').replace('-', '');
  const partitions = opts.partitions ?? 6;
  await ensureTopics(kafkaBrokers, prefix, partitions, replication);
  const [ingestPort, processorPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TXPIPE_KAFKA_BROKERS: kafkaBrokers.join(','),
    TXPIPE_REDIS_URL: redisUrl,
    ...(redisCluster && { TXPIPE_REDIS_CLUSTER: redisCluster.join(',') }),
    TXPIPE_TOPIC_PREFIX: prefix,
    TXPIPE_PARTITIONS: String(partitions),
    TXPIPE_INGEST_PORT: String(ingestPort),
    TXPIPE_PROCESSOR_PORT: String(processorPort),
    TXPIPE_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  // Authentication stays on, as deployed: the pipeline's own keys file with one key for the tests.
  const key = testKey(env);
  const ingestUrl = `http://127.0.0.1:${ingestPort}`;
  const ingest = new Service(
    'ingest-api',
    { ...env, ...opts.ingestEnv },
    `${ingestUrl}/${opts.ready === false ? 'healthz' : 'readyz'}`,
  );
  const processor = new Service(
    'processor',
    { ...env, ...opts.processorEnv },
    `http://127.0.0.1:${processorPort}/readyz`,
    { wrapper: opts.processorWrapper },
  );
  await Promise.all([ingest.start(), opts.processor === false ? undefined : processor.start()]);

  const redis = redisCluster ? testCluster(redisCluster) : new Redis(env.TXPIPE_REDIS_URL!, { lazyConnect: false });
  redis.on('error', () => undefined); // tests that stop Redis expect reconnect attempts
  const kafka = new Kafka({ brokers: kafkaBrokers, clientId: `test-${prefix}`, logLevel: logLevel.NOTHING });
  return {
    prefix,
    partitions,
    topics: topicNames(prefix),
    ingestUrl,
    redis,
    kafka,
    ingest,
    processor,
    auth: key.headers,
    keysFile: env.TXPIPE_KEYS_FILE!,
    namespace: key.namespace,
    async post(body, headers = {}) {
      const r = await fetch(`${ingestUrl}/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...key.headers, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: r.status, body: await r.json().catch(() => undefined), headers: r.headers };
    },
    async get(path) {
      const r = await fetch(`${ingestUrl}${path}`, { headers: key.headers });
      return { status: r.status, body: await r.json().catch(() => undefined) };
    },
    async stop() {
      await Promise.all([ingest.stop(), processor.stop()]);
      redis.disconnect();
    },
  };
}

/** A cluster client for a test's own reads: slots refreshed often, so a failover is followed within a second. */
export const testCluster = (nodes: string[]) => new Cluster(nodes.map(parseNode), { slotsRefreshInterval: 1000 });

/** Another instance of one of the pipeline's services (its environment, a port of its own), started. */
export async function startAnother(
  p: Pipeline,
  kind: 'ingest-api' | 'processor',
): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const first = kind === 'ingest-api' ? p.ingest : p.processor;
  const portVar = kind === 'ingest-api' ? 'TXPIPE_INGEST_PORT' : 'TXPIPE_PROCESSOR_PORT';
  const service = new Service(kind, { ...first.env, [portVar]: String(port) }, `${url}/readyz`);
  await service.start();
  return { service, url };
}

/** Every record of a topic up to its current end (a throwaway consumer group, from the beginning). */
export async function readTopic(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  return (await readTopicRecords(kafka, topic)).map((r) => r.message);
}

/** A decided status record as flat strings: type, status, code, result (JSON), ingestedAt, appliedAt, producer. */
function flatOutcome(record: StatusRecord): Record<string, string> {
  const o = record.outcome!;
  return {
    type: o.type,
    status: o.status,
    code: o.code,
    result: JSON.stringify(o.result),
    ingestedAt: String(o.ingestedAt),
    appliedAt: String(o.appliedAt),
    ...(record.producer !== undefined && { producer: record.producer }),
  };
}

/** Waits for the outcome of every id (status applied or rejected), in parallel batches. */
export async function waitForOutcomes(
  p: Pipeline,
  ids: string[],
  timeoutMs = 120_000,
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  await waitFor(
    `${ids.length} outcomes`,
    async () => {
      const missing = ids.filter((id) => !out.has(id));
      const pipe = pipeline(p.redis);
      for (const id of missing) pipe.hgetall(statusKey(scopedId(p.namespace, id)));
      const replies = (await pipe.exec()) ?? [];
      replies.forEach(([, h], i) => {
        const record = readStatus(h as Record<string, string>);
        if (record?.outcome) out.set(missing[i]!, flatOutcome(record));
      });
      return out.size === ids.length;
    },
    timeoutMs,
  );
  return out;
}
