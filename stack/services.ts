// Kafka + Redis for tests: from the environment, from Docker (testcontainers), or started locally.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startKafka, startKafkaCluster, waitForKafka } from './kafka.ts';
import { startRedisCluster } from './redis-cluster.ts';
import { freePort } from './ports.ts';
import { startRedis } from './redis.ts';
import { proxyTcp, startToxiproxy } from './toxiproxy.ts';

export interface Services {
  kafkaBrokers: string[];
  redisUrl: string;
  /** On a cluster: the Redis Cluster's nodes (redisUrl is then unused), and the topics' replication factor. */
  redisCluster?: string[];
  replication?: number;
  source: 'env' | 'testcontainers' | 'local';
  /** Fault injection (the local stack only): the toxiproxy API, and the broker reached through its proxy. */
  faults?: Faults;
  stop(): Promise<void>;
}

export interface Faults {
  toxiproxyUrl: string;
  /** Bootstrap here and every request and response goes through the toxiproxy proxy `kafkaProxyName`. */
  kafkaProxied: string[];
}

/** The toxiproxy proxy in front of the broker's proxied listener. */
export const kafkaProxyName = 'kafka';

export interface ProvideOptions {
  partitions?: number;
  log?: (s: string) => void;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms).unref())]);

/** The testcontainers module when a Docker engine answers within 3 s, else null. */
async function dockerAvailable(): Promise<typeof import('testcontainers') | null> {
  try {
    // Imported lazily: a devDependency, and half a second of load time nobody needs without Docker.
    const tc = await import('testcontainers');
    await withTimeout(tc.getContainerRuntimeClient(), 3000);
    return tc;
  } catch {
    return null;
  }
}

async function fromContainers(tc: typeof import('testcontainers'), opts: ProvideOptions): Promise<Services> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = tc;
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  // Kafka must advertise the address clients use, so the host port is chosen before the container starts.
  const hostPort = await freePort();
  const partitions = String(opts.partitions ?? 6);
  const [kafka, redis] = await Promise.all([
    new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 9092, host: hostPort })
      .withEnvironment({
        CLUSTER_ID: 'txpipe-test-cluster-01',
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_NUM_PARTITIONS: partitions,
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(120_000)
      .start(),
    new GenericContainer('redis:7')
      .withCommand(['redis-server', '--appendonly', 'yes', '--save', '', '--zset-max-listpack-value', '128'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start(),
  ]);
  const kafkaBrokers = [`${kafka.getHost()}:${hostPort}`];
  await waitForKafka(kafkaBrokers, 60_000);
  return {
    kafkaBrokers,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    source: 'testcontainers',
    stop: async () => {
      await Promise.all([kafka.stop(), redis.stop()]);
    },
  };
}

async function local(opts: ProvideOptions): Promise<Services> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-stack-'));
  // The proxy first: the broker advertises its listen port on the proxied listener.
  const toxiproxy = await startToxiproxy({ logFile: path.join(dir, 'toxiproxy.log') });
  const proxied = { port: await freePort(), advertisedPort: await freePort() };
  const proxy = await proxyTcp(
    toxiproxy.url,
    kafkaProxyName,
    `127.0.0.1:${proxied.port}`,
    proxied.advertisedPort,
  ).catch(async (e: Error) => {
    await toxiproxy.stop();
    throw e;
  });
  const [k, r] = await Promise.allSettled([
    startKafka({ dataDir: path.join(dir, 'kafka'), logFile: path.join(dir, 'kafka.log'), proxied, log: opts.log }),
    startRedis({ dir: path.join(dir, 'redis'), logFile: path.join(dir, 'redis.log') }),
  ]);
  if (k.status === 'rejected' || r.status === 'rejected') {
    // Stop the one that did start; keep the temp dir so its logs can be read.
    await Promise.all([
      ...[k, r].map((x) => (x.status === 'fulfilled' ? x.value.stop() : undefined)),
      toxiproxy.stop(),
    ]);
    throw k.status === 'rejected' ? k.reason : (r as PromiseRejectedResult).reason;
  }
  const kafka = k.value;
  const redis = r.value;
  return {
    kafkaBrokers: kafka.brokers,
    redisUrl: redis.url,
    source: 'local',
    faults: { toxiproxyUrl: toxiproxy.url, kafkaProxied: [proxy.listen] },
    stop: async () => {
      await Promise.all([kafka.stop(), redis.stop(), toxiproxy.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The cluster topology on loopback: three KRaft nodes (replication 3, min.insync.replicas 2) and a Redis
 * Cluster of three masters with a replica each. Environment addresses win here too (TXPIPE_KAFKA_BROKERS
 * with TXPIPE_REDIS_CLUSTER).
 */
export async function provideClusterServices(opts: ProvideOptions = {}): Promise<Services> {
  const log = opts.log ?? (() => {});
  const { TXPIPE_KAFKA_BROKERS: brokers, TXPIPE_REDIS_CLUSTER: nodes } = process.env;
  if (brokers && nodes) {
    log('cluster services: using TXPIPE_KAFKA_BROKERS and TXPIPE_REDIS_CLUSTER');
    const split = (s: string) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    return {
      kafkaBrokers: split(brokers),
      redisUrl: '',
      redisCluster: split(nodes),
      replication: 3,
      source: 'env',
      stop: async () => {},
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-cluster-'));
  const [k, r] = await Promise.allSettled([
    startKafkaCluster({ dataDir: path.join(dir, 'kafka'), size: 3, log }),
    startRedisCluster({ dir: path.join(dir, 'redis'), log }),
  ]);
  if (k.status === 'rejected' || r.status === 'rejected') {
    await Promise.all([k, r].flatMap((x) => (x.status === 'fulfilled' ? [x.value.stop()] : [])));
    throw k.status === 'rejected' ? k.reason : (r as PromiseRejectedResult).reason;
  }
  return {
    kafkaBrokers: k.value.brokers,
    redisUrl: '',
    redisCluster: r.value.nodes,
    replication: 3,
    source: 'local',
    stop: async () => {
      await Promise.all([k.value.stop(), r.value.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function provideServices(opts: ProvideOptions = {}): Promise<Services> {
  const log = opts.log ?? (() => {});
  const { TXPIPE_KAFKA_BROKERS: brokers, TXPIPE_REDIS_URL: redisUrl } = process.env;
  if (brokers && redisUrl) {
    log('services: using TXPIPE_KAFKA_BROKERS and TXPIPE_REDIS_URL');
    const kafkaBrokers = brokers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { kafkaBrokers, redisUrl, source: 'env', stop: async () => {} };
  }
  const tc = await dockerAvailable();
  if (tc) {
    log('services: Docker answers, starting apache/kafka:4.1.1 and redis:7 with testcontainers');
    return fromContainers(tc, opts);
  }
  log('services: no Docker engine, starting a local Kafka and redis-server');
  return local(opts);
}
