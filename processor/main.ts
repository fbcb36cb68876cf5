// The processor service: consumes the domain topics and applies each message once, in Redis.
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { loadConfig, topics as topicNames } from '../common/config.ts';
import { domains } from '../common/domains.ts';
import { createKafka, createProducer } from '../common/kafka.ts';
import { KafkaSender } from '../common/kafka-sender.ts';
import { createLogger } from '../common/log.ts';
import { collectProcessMetrics } from '../common/metrics.ts';
import { startOpsServer } from '../common/ops-server.ts';
import { limits } from '../common/limits.ts';
import { createRedis } from '../common/redis.ts';
import { startConsumer } from './consumer.ts';
import { warnIfUndersized } from './sizing.ts';
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
const redis = createRedis(config.redis, {
  name: 'txpipe-processor',
  failFast: true,
  commandTimeoutMs: limits.processorRedisTimeoutMs,
});
const sender = new KafkaSender({ create: () => createProducer(kafka), log });
let joined = false;
let positionsHealthy = () => true;

const ops = await startOpsServer(config.processor.host, config.processor.port, async () => ({
  redis: await redis.ping().then(
    () => true,
    () => false,
  ),
  kafka: joined && sender.connected,
  positions: positionsHealthy(),
}));
log.info('ops endpoints listening', { port: (ops.address() as AddressInfo).port });

await untilConnected(
  'Redis',
  () => redis.connect(),
  () => redis.disconnect(),
);
await refuseEvictingRedis();
await warnIfUndersized(redis, config.retention, config.sizingTxPerSec, log);
await untilConnected('Kafka', () => sender.connect());
const { consumer, positions } = await startConsumer(
  kafka,
  { redis, sender, topics, retention: config.retention, log },
  topics,
  {
    groupId: config.processor.groupId,
    // Every assigned partition at once (a partition per domain topic): their round trips are shared.
    partitionsConcurrently: config.partitions * domains.length,
    fetchMaxBytes: config.processor.fetchMaxBytes,
    fetchWaitMs: config.processor.fetchWaitMs,
    watermarkCheckMs: config.processor.watermarkCheckMs,
    onMembership: (inGroup) => {
      joined = inGroup;
    },
  },
);
positionsHealthy = () => positions.healthy();
const sweeper = new Sweeper({
  redis,
  sender,
  topics,
  log,
  intervalMs: config.sweepIntervalMs,
  owned: () => positions.owned(),
});
sweeper.start();
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('stopping: finishing the batch in hand, committing, disconnecting', { signal });
  await sweeper.stop();
  // consumer.disconnect() waits for the running eachBatch calls, then commits what they resolved.
  await consumer.disconnect().catch((e: Error) => log.error('consumer disconnect failed', { error: e.message }));
  await sender.disconnect();
  redis.disconnect();
  ops.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

/** Kafka and Redis may come up after us: keep trying, saying so now and then. */
async function untilConnected(what: string, connect: () => Promise<void>, afterFailure = () => {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (e) {
      if (attempt === 1 || attempt % 10 === 0) log.warn(`waiting for ${what}`, { error: (e as Error).message });
      afterFailure();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A Redis that may evict keys may drop idempotency flags and status records: a transaction applied twice. */
async function refuseEvictingRedis() {
  const { maxmemoryPolicy } = await new Watermarks(redis).identity();
  if (maxmemoryPolicy === 'noeviction') return;
  log.error(
    `Redis maxmemory-policy is ${maxmemoryPolicy}: it may evict idempotency flags and status records, and a ` +
      'transaction would then be applied twice. Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction).',
    { url: config.redisUrl },
  );
  process.exit(1);
}
