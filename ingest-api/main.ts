// The ingest-api service: validates transactions and publishes them to Kafka (acks=all) before 202.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, topics as topicNames } from '../common/config.ts';
import { createKafka, createProducer } from '../common/kafka.ts';
import { KafkaSender } from '../common/kafka-sender.ts';
import { limits } from '../common/limits.ts';
import { createLogger } from '../common/log.ts';
import { collectProcessMetrics } from '../common/metrics.ts';
import { createRedis } from '../common/redis.ts';
import { createApp, type AppDeps } from './app.ts';
import { withHotPath } from './hot-path.ts';
import { bound, serverOptions } from './edge.ts';
import { observeProduceCall, Publisher } from './publisher.ts';
import { AcceptWindow } from './window.ts';
import { OutcomeWaiters } from './outcomes.ts';
import { EntityStreams } from './entity-streams.ts';
import { OutcomeStream } from './outcome-stream.ts';
import { changesChannel, outcomesChannel } from '../common/keys.ts';
import { background } from './redis-connections.ts';
import { Authenticator } from './auth.ts';
import { KeyStore } from './keys.ts';
import { RateLimiter } from './rate-limit.ts';

const config = loadConfig();
const log = createLogger('ingest-api', config.logLevel);
collectProcessMetrics('ingest-api');

const kafka = createKafka(config.kafkaBrokers, 'txpipe-ingest');
const sender = new KafkaSender({
  create: () => createProducer(kafka),
  log,
  maxCallRecords: 2000,
  onCall: observeProduceCall,
});
const publisher = new Publisher(sender, { maxPending: limits.maxPendingProduces });
// Ingest runs two scripts, the idempotency claim (accept.ts) and the rate limit (rate-limit.ts); registering only
// them keeps pipelines cheap.
const redis = createRedis(config.redis, {
  name: 'txpipe-ingest',
  failFast: true,
  scripts: ['tx.claim', 'ratelimit.take'],
  commandTimeoutMs: limits.ingestRedisTimeoutMs,
});

// Outcome and change announcements on a subscriber of their own; a waiter that misses an outcome while it
// reconnects reads it when its time runs out.
const subscriber = background(config.redis, 'txpipe-ingest-outcomes');
const outcomes = new OutcomeWaiters(subscriber, outcomesChannel(topicNames(config.topicPrefix).results));
outcomes.start().catch((e: Error) => log.warn('outcome announcements unavailable', { error: e.message }));
// Live streams: entity changes on the same subscriber; the outcome feed read with blocking reads on a connection of its own.
const results = topicNames(config.topicPrefix).results;
const entities = new EntityStreams(redis, subscriber, changesChannel(results), log);
subscriber
  .subscribe(changesChannel(results))
  .catch((e: Error) => log.warn('change announcements unavailable', { error: e.message }));
const feedReader = background(config.redis, 'txpipe-ingest-feed');
const outcomeStream = new OutcomeStream(feedReader, results, log);

// API keys, reloaded when their file changes; or no authentication at all, said loudly.
let keys: KeyStore | undefined;
if (config.auth.enabled) {
  keys = new KeyStore(config.auth.keysFile, log);
  keys.watch();
  if (keys.size === 0)
    log.warn('no API keys yet: every /v1 request is refused 401 until some are added', { file: config.auth.keysFile });
  else log.info('API keys loaded', { file: config.auth.keysFile, keys: keys.size });
} else {
  log.warn('TXPIPE_AUTH=off: no API keys are asked for; anyone who reaches ingest-api may post and read anything');
}

const acceptDeps = {
  redis,
  publisher,
  log,
  topics: topicNames(config.topicPrefix),
  idempotencyWindowMs: config.retention.idempotencyWindowMs,
};
const deps: AppDeps = {
  ...acceptDeps,
  window: new AcceptWindow(acceptDeps, config.lingerMs),
  outcomes,
  streams: { entities, outcomes: outcomeStream },
  auth: new Authenticator(keys),
  limiter: new RateLimiter(redis, config.rateLimit, log),
  ready: async () => ({
    kafka: publisher.connected,
    redis: await redis.ping().then(
      () => true,
      () => false,
    ),
  }),
};
const app = createApp(deps);

// Express serves every route; plain POST /v1/transactions takes the hot path (same handler, no Express).
const server = bound(createServer(serverOptions, withHotPath(deps, app))).listen(
  config.ingest.port,
  config.ingest.host,
  () => {
    log.info('listening', { url: `http://${config.ingest.host}:${(server.address() as AddressInfo).port}` });
  },
);

let stopping = false;

// Kafka and Redis may come up after us: keep trying in the background; /readyz says when we are ready.
void retry('Kafka', () => sender.connect());
void retry('Redis', () => redis.connect());

async function retry(what: string, connect: () => Promise<unknown>) {
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await connect();
      log.info(`connected to ${what}`);
      return;
    } catch (e) {
      if (attempt === 1 || attempt % 10 === 0) log.warn(`waiting for ${what}`, { error: (e as Error).message });
      if (what === 'Redis') redis.disconnect();
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('stopping: no new requests, waiting for pending acknowledgements', { signal });
  server.close();
  keys?.close();
  server.closeIdleConnections();
  outcomes.close();
  outcomeStream.close();
  entities.close();
  await deps.window.drain();
  await publisher.drain();
  await sender.disconnect();
  redis.disconnect();
  subscriber.disconnect();
  feedReader.disconnect();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
