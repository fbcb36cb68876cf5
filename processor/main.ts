// The processor service: consumes the domain topics and applies each message once, in Redis.
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { domains, loadConfig, topics as topicNames } from '../common/config.ts';
import { createKafka, createProducer } from '../common/kafka.ts';
import { createLogger } from '../common/log.ts';
import { collectProcessMetrics } from '../common/metrics.ts';
import { startOpsServer } from '../common/ops-server.ts';
import { limits } from '../common/limits.ts';
import { createRedis } from '../common/redis.ts';
import { startConsumer } from './consumer.ts';
import { Sweeper } from './sweeper.ts';
import { Watermarks } from './watermarks.ts';

const config = loadConfig();
const log = createLogger('processor', config.logLevel);
collectProcessMetrics('processor');
try {
  // The main thread, where the JavaScript runs (Linux niceness is per thread).
  os.setPriority(config.processor.nice);
} catch (e) {
  log.warn('could not lower the CPU priority', { nice: config.processor.nice, error: (e as Error).message });
}

const topics = topicNames(config.topicPrefix);
const kafka = createKafka(config.kafkaBrokers, 'txpipe-processor');
const redis = createRedis(config.redisUrl, { name: 'txpipe-processor', failFast: true, commandTimeoutMs: limits.processorRedisTimeoutMs });
const producer = createProducer(kafka);
let joined = false;
let positionsHealthy = () => true;

const ops = await startOpsServer(config.processor.host, config.processor.port, async () => ({
  redis: await redis.ping().then(() => true, () => false),
  kafka: joined,
  positions: positionsHealthy(),
}));
log.info('ops endpoints listening', { port: (ops.address() as AddressInfo).port });

await connectRedis();
await refuseEvictingRedis();
await producer.connect();
const { consumer, positions } = await startConsumer(kafka, { redis, producer, topics, retentionMs: config.flagRetentionMs, log }, topics, {
  groupId: config.processor.groupId,
  // Every assigned partition at once (a partition per domain topic): their round trips are shared.
  partitionsConcurrently: config.partitions * domains.length,
  fetchMaxBytes: config.processor.fetchMaxBytes,
  fetchWaitMs: config.processor.fetchWaitMs,
  watermarkCheckMs: config.processor.watermarkCheckMs,
  onMembership: (inGroup) => { joined = inGroup; },
});
positionsHealthy = () => positions.healthy();
const sweeper = new Sweeper({ redis, producer, topics, log, intervalMs: config.sweepIntervalMs });
sweeper.start();
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('stopping: finishing the batch in hand, committing, disconnecting', { signal });
  await sweeper.stop();
  // consumer.disconnect() waits for the running eachBatch calls, then commits what they resolved.
  await consumer.disconnect().catch((e: Error) => log.error('consumer disconnect failed', { error: e.message }));
  await producer.disconnect().catch(() => undefined);
  redis.disconnect();
  ops.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

async function connectRedis() {
  for (let attempt = 1; ; attempt++) {
    try {
      await redis.connect();
      return;
    } catch (e) {
      if (attempt === 1 || attempt % 10 === 0) log.warn('waiting for Redis', { url: config.redisUrl, error: (e as Error).message });
      redis.disconnect();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A Redis that may evict keys may drop idempotency flags and status records: a transaction applied twice. */
async function refuseEvictingRedis() {
  const { maxmemoryPolicy } = await new Watermarks(redis).identity();
  if (maxmemoryPolicy === 'noeviction') return;
  log.error(`Redis maxmemory-policy is ${maxmemoryPolicy}: it may evict idempotency flags and status records, and a ` +
    'transaction would then be applied twice. Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction).', { url: config.redisUrl });
  process.exit(1);
}
