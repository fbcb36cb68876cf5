// The pipeline a chaos run starts for itself on the local stack, with a handle on everything it breaks:
// Kafka behind toxiproxy (stack/services.ts), a Redis of its own behind another proxy (so it can be
// killed and rolled back), ingest-api and the processor as child processes (stack/app-service.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Proxy } from 'toxiproxy-node-client';
import { topics, type Topics } from '../../common/config.ts';
import { Service } from '../../stack/app-service.ts';
import { freePort } from '../../stack/ports.ts';
import { copyAof, ping, rollBackAof, startRedis, type RedisServer } from '../../stack/redis.ts';
import { getProxy, proxyTcp } from '../../stack/toxiproxy.ts';
import { kafkaProxyName, provideServices, type Services } from '../../stack/services.ts';
import { ensureTopics } from '../../stack/topics.ts';
import type { Fault } from './schedule.ts';

export interface ChaosPipeline {
  prefix: string;
  /** Partitions of each of its topics. */
  partitions: number;
  topics: Topics;
  kafkaBrokers: string[];
  /** What the services use: Kafka and Redis through the proxies. */
  env: NodeJS.ProcessEnv;
  /** Redis reached directly (the checks), not through its proxy. */
  redisUrl: string;
  ingest: Service;
  processor: Service;
  /** Starts the fault; resolves with its healing. */
  inject(f: Fault): Promise<() => Promise<void>>;
  /** Copies Redis's AOF now, for the rollback fault due at `at` (ms into the run). */
  snapshot(at: number): void;
  /** Heals whatever is still broken: toxics off, every service up. */
  healAll(): Promise<void>;
  stop(): Promise<void>;
}

const redisProxyName = 'chaos-redis';

export async function startChaosPipeline(seed: number, log: (s: string) => void): Promise<ChaosPipeline> {
  // Kafka (and toxiproxy in front of it) from the local stack; its own Redis is not the one we break.
  const env0 = { ...process.env };
  delete env0.TXPIPE_KAFKA_BROKERS;
  delete env0.TXPIPE_REDIS_URL;
  const partitions = 6;
  const stack: Services = await withEnv(env0, () => provideServices({ partitions, log }));
  if (!stack.faults)
    throw new Error(
      'the chaos run needs the local stack (toxiproxy in front of Kafka); services came from ' + stack.source,
    );
  const faults = stack.faults;
  const dir = mkdtempSync(join(tmpdir(), 'txpipe-chaos-'));
  const redisPort = await freePort();
  let redis: RedisServer = await startRedis({ dir, port: redisPort });
  const redisProxy = await proxyTcp(faults.toxiproxyUrl, redisProxyName, `127.0.0.1:${redisPort}`);
  const kafkaProxy = await getProxy(faults.toxiproxyUrl, kafkaProxyName);
  const prefix = `chaos${seed}x${Date.now().toString(36)}`;
  await ensureTopics(stack.kafkaBrokers, prefix, partitions);

  const env: NodeJS.ProcessEnv = {
    ...env0,
    TXPIPE_KAFKA_BROKERS: faults.kafkaProxied.join(','),
    TXPIPE_REDIS_URL: `redis://${redisProxy.listen}`,
    TXPIPE_TOPIC_PREFIX: prefix,
    TXPIPE_PARTITIONS: String(partitions),
    TXPIPE_SWEEP_INTERVAL_MS: '500',
    TXPIPE_WATERMARK_CHECK_MS: '500',
    TXPIPE_LOG_LEVEL: 'warn',
    // Its load sends no API key: authentication off.
    TXPIPE_AUTH: 'off',
  };
  const service = async (name: 'ingest-api' | 'processor', clockAheadSeconds = 0) => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const own = name === 'ingest-api' ? { TXPIPE_INGEST_PORT: String(port) } : { TXPIPE_PROCESSOR_PORT: String(port) };
    // Only the wall clock is skewed (timers run normally), as on a host whose clock sync is off.
    const skew = clockAheadSeconds ? { FAKETIME_DONT_FAKE_MONOTONIC: '1' } : {};
    const wrapper = clockAheadSeconds ? ['faketime', '-f', `+${clockAheadSeconds}s`] : [];
    return new Service(name, { ...env, ...own, ...skew }, `${url}/readyz`, { wrapper });
  };
  const ingest = await service('ingest-api');
  const processor = await service('processor');
  await Promise.all([ingest.start(), processor.start()]);
  let second: Service | undefined;

  const toxic = (proxy: Proxy, type: string, attributes: Record<string, number>) =>
    proxy.addToxic({
      name: `chaos-${type}`,
      type: type as 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: attributes as never,
    });
  const removeToxics = async (proxy: Proxy) => {
    for (const type of ['latency', 'timeout', 'reset_peer']) {
      await proxy.getToxic(`chaos-${type}`).then(
        (t) => t.remove(),
        () => undefined,
      );
    }
  };
  const snapshots = new Map<number, string>();
  const restartRedis = (fromCopy?: string) => (fromCopy ? rollBackAof(redis, fromCopy) : redis.kill());

  const p: ChaosPipeline = {
    prefix,
    partitions,
    topics: topics(prefix),
    kafkaBrokers: stack.kafkaBrokers,
    env,
    redisUrl: redis.url,
    ingest,
    processor,
    async inject(f) {
      switch (f.kind) {
        case 'kill-processor':
          await processor.stop('SIGKILL');
          return () => processor.start();
        case 'kill-ingest':
          await ingest.stop('SIGKILL');
          return () => ingest.start();
        case 'kill-redis':
          await restartRedis();
          return async () => {
            redis = await startRedis({ dir, port: redisPort });
          };
        case 'rollback-redis': {
          const copy = snapshots.get(f.at);
          await restartRedis(copy);
          return async () => {
            redis = await startRedis({ dir, port: redisPort });
          };
        }
        case 'kafka-latency':
          await toxic(kafkaProxy, 'latency', { latency: f.param, jitter: Math.floor(f.param / 4) });
          return () => removeToxics(kafkaProxy);
        case 'kafka-timeout':
          await toxic(kafkaProxy, 'timeout', { timeout: f.holdMs });
          return () => removeToxics(kafkaProxy);
        case 'kafka-reset':
          await toxic(kafkaProxy, 'reset_peer', { timeout: 0 });
          return () => removeToxics(kafkaProxy);
        case 'redis-latency':
          await toxic(redisProxy, 'latency', { latency: f.param, jitter: Math.floor(f.param / 4) });
          return () => removeToxics(redisProxy);
        case 'redis-reset':
          await toxic(redisProxy, 'reset_peer', { timeout: 0 });
          return () => removeToxics(redisProxy);
        case 'second-processor':
        case 'skewed-processor': {
          second = await service('processor', f.kind === 'skewed-processor' ? f.param : 0);
          await second.start();
          const leaving = second;
          const signal = f.kind === 'second-processor' && f.param ? 'SIGKILL' : 'SIGTERM';
          return async () => {
            await leaving.stop(signal);
            second = undefined;
          };
        }
      }
    },
    snapshot(at) {
      snapshots.set(at, copyAof(redis, `aof-${at}`));
    },
    async healAll() {
      await Promise.all([removeToxics(kafkaProxy), removeToxics(redisProxy)]);
      await second?.stop('SIGTERM');
      if (!(await redisAlive(redis.url))) redis = await startRedis({ dir, port: redisPort });
      for (const s of [ingest, processor])
        if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) await s.start();
    },
    async stop() {
      await Promise.all([ingest.stop(), processor.stop(), second?.stop()]);
      await redisProxy.remove().catch(() => undefined);
      await redis.stop();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return p;
}

function redisAlive(url: string): Promise<boolean> {
  const u = new URL(url);
  return ping(u.hostname, Number(u.port));
}

/** provideServices reads the environment; the run's own TXPIPE_* must not send it elsewhere. */
async function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  process.env = env;
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}
