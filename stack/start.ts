// `npm start`: Kafka + Redis (unless given by env), topics, then ingest-api and processor; Ctrl-C stops all.
// `npm start -- --cluster`: three Kafka nodes, a Redis Cluster, two of each service.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../common/config.ts';
import { clusterPorts, masked, parseStartArgs, usage, UsageError, type StartOptions } from './cli.ts';
import { repoRoot } from './kafka-jars.ts';
import { startKafka, startKafkaCluster } from './kafka.ts';
import { startRedisCluster } from './redis-cluster.ts';
import { portIsFree } from './ports.ts';
import { commandExists, exited, serviceNodeArgs, sleep, spawnOwned, stopChild, tail } from './proc.ts';
import { prometheusMissing, startPrometheus } from './prometheus.ts';
import { startRedis } from './redis.ts';
import { ensureTopics } from './topics.ts';
import { createKey } from '../ops/keys.ts';

// The command line first: --help and a flag we do not know start nothing.
let options: StartOptions;
try {
  options = parseStartArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`[stack] ${e.message}\n\n${usage}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const { quiet, prometheus: withPrometheus, kafkaPort, redisPort, cluster } = options;
// A stack on other ports keeps its data and logs apart, so two can run side by side from one checkout.
const defaultPorts = kafkaPort === 9092 && redisPort === 6379;
const stackDir = path.join(
  repoRoot,
  '.stack',
  ...(cluster ? [`cluster-${kafkaPort}-${redisPort}`] : defaultPorts ? [] : [`${kafkaPort}-${redisPort}`]),
);
const logDir = path.join(stackDir, 'logs');
const say = (s: string) => console.log(`[stack] ${s}`);

type Kind = 'prometheus' | 'ingest-api' | 'processor' | 'kafka' | 'redis';
/** A part of the stack: its kind, and its number where there are several (ingest-api-2). */
type Part = Kind | `${'ingest-api' | 'processor'}-${number}`;
// Shutdown order: stop taking requests first, then the consumers, then the infrastructure under them.
const order: Kind[] = ['prometheus', 'ingest-api', 'processor', 'kafka', 'redis'];
const stoppers = new Map<Part, () => Promise<void>>();
let stopping: Promise<void> | undefined;
let exitCode = 0;
let firstSignalAt = 0;

async function stopAll(): Promise<void> {
  if (stoppers.size) say('stopping...');
  for (const kind of order) {
    // Parts of one kind stop together.
    const parts = [...stoppers].filter(([part]) => part === kind || part.startsWith(`${kind}-`));
    await Promise.all(
      parts.map(async ([part, stop]) => {
        await stop().catch((e: Error) => say(`${part}: ${e.message}`));
        say(`${part} stopped`);
      }),
    );
  }
}

/** Idempotent: later callers wait for the same ordered stop; the first non-zero code wins. */
async function shutdown(code: number): Promise<never> {
  exitCode ||= code;
  stopping ??= stopAll();
  await stopping;
  process.exit(exitCode);
}

function fail(message: string): Promise<never> {
  if (!stopping) console.error(`\n[stack] ${message}\n`);
  return shutdown(1);
}

const onSignal = () => {
  // Ctrl-C again (not the same keypress relayed twice) while stopping: force; the exit hook kills the rest.
  if (stopping && Date.now() - firstSignalAt > 1000) process.exit(1);
  firstSignalAt ||= Date.now();
  void shutdown(0);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function requireFree(port: number, what: string, envVar: string): Promise<void> {
  if (!(await portIsFree(port))) {
    throw new Error(
      `port ${port} (${what}) is already in use: stop what listens there, or set ${envVar} to use another`,
    );
  }
}

/** Copies a stream into the log file and, unless --quiet, to the terminal with a `[name]` prefix. */
function relay(stream: NodeJS.ReadableStream, name: string, file: fs.WriteStream, to: NodeJS.WriteStream): void {
  let carry = '';
  stream.on('data', (b: Buffer) => {
    file.write(b);
    if (quiet) return;
    const lines = (carry + b.toString()).split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) to.write(`[${name}] ${l}\n`);
  });
  stream.on('end', () => {
    if (carry && !quiet) to.write(`[${name}] ${carry}\n`);
  });
}

function startApp(kind: 'ingest-api' | 'processor', name: Part, env: NodeJS.ProcessEnv): ChildProcess {
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.createWriteStream(logFile, { flags: 'a' });
  out.write(`\n==== ${name} start ${new Date().toISOString()} ====\n`);
  // `node --import tsx` runs the TypeScript entry in this one process (no tsx wrapper process to signal).
  const child = spawnOwned(process.execPath, serviceNodeArgs(kind), {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  relay(child.stdout!, name, out, process.stdout);
  relay(child.stderr!, name, out, process.stderr);
  child.once('close', () => out.end());
  child.once('exit', (code, sig) => {
    if (stopping) return;
    // Give the log stream a moment to flush before reading its tail.
    setTimeout(() => {
      void fail(`${name} exited unexpectedly (${code ?? sig}); tail of ${logFile}:\n${tail(logFile, 30)}`);
    }, 200);
  });
  stoppers.set(name, () => stopChild(child, kind === 'processor' ? 15_000 : 10_000));
  return child;
}

async function waitReady(name: string, child: ChildProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`${name} exited while starting`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(300);
  }
  const logFile = path.join(logDir, `${name}.log`);
  throw new Error(
    `${name} not ready at ${url} after ${timeoutMs / 1000} s (${last}); tail of ${logFile}:\n${tail(logFile, 30)}`,
  );
}

/**
 * The development key: created on the first run (every type, every read), its secret kept beside the keys
 * file (mode 600) so each start can print it again. Undefined with TXPIPE_AUTH=off.
 */
function developmentKey(cfg: ReturnType<typeof loadConfig>): string | undefined {
  if (!cfg.auth.enabled) return undefined;
  const keysFile = path.resolve(repoRoot, cfg.auth.keysFile);
  const secretFile = path.join(path.dirname(keysFile), 'dev-key');
  if (fs.existsSync(secretFile)) return fs.readFileSync(secretFile, 'utf8').trim();
  const { key, record } = createKey(keysFile, { name: 'development', producer: 'dev', scope: '*', read: 'all' });
  fs.writeFileSync(secretFile, `${key}\n`, { mode: 0o600 });
  say(`created the development key ${record.id} in ${keysFile} (its secret in ${secretFile})`);
  return key;
}

// A wildcard bind address is reachable on loopback; probe that.
const probeHost = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);

async function main(): Promise<void> {
  const cfg = loadConfig();
  fs.mkdirSync(logDir, { recursive: true });
  const useEnvKafka = Boolean(process.env.TXPIPE_KAFKA_BROKERS);
  const useEnvRedis = Boolean(
    cluster ? process.env.TXPIPE_REDIS_CLUSTER : process.env.TXPIPE_REDIS_URL || process.env.TXPIPE_REDIS_CLUSTER,
  );
  const onExit = (part: string, file: string) => (code: number | string | null) =>
    void fail(`${part} exited unexpectedly (${code}); tail of ${file}:\n${tail(file, 30)}`);
  const ingestPorts = Array.from({ length: options.ingests }, (_, i) => cfg.ingest.port + i);
  const processorPorts = Array.from({ length: options.processors }, (_, i) => cfg.processor.port + i);

  // Fail on taken ports before starting anything, so the message names the culprit.
  if (!useEnvKafka) {
    for (let i = 0; i < (cluster ? clusterPorts.kafka : 2); i++) {
      await requireFree(kafkaPort + i, i % 2 ? 'Kafka controller' : 'Kafka', 'TXPIPE_KAFKA_PORT (or --kafka-port)');
    }
  }
  if (!useEnvRedis) {
    for (let i = 0; i < (cluster ? clusterPorts.redis : 1); i++) {
      await requireFree(redisPort + i, 'Redis', 'TXPIPE_REDIS_PORT (or --redis-port)');
      // A cluster node's bus, as Redis places it.
      if (cluster)
        await requireFree(redisPort + i + 10_000, 'Redis Cluster bus', 'TXPIPE_REDIS_PORT (or --redis-port)');
    }
  }
  for (const port of ingestPorts) await requireFree(port, 'ingest-api', 'TXPIPE_INGEST_PORT');
  for (const port of processorPorts) await requireFree(port, 'processor metrics', 'TXPIPE_PROCESSOR_PORT');
  if (withPrometheus) {
    if (!commandExists('prometheus')) throw new Error(prometheusMissing);
    if (!(await portIsFree(9090)))
      throw new Error('port 9090 (Prometheus) is already in use: stop what listens there, or drop --prometheus');
  }

  let kafkaBrokers = cfg.kafkaBrokers;
  let redisUrl = cfg.redisUrl;
  let redisCluster = cfg.redis.cluster;
  const kafkaLog = path.join(logDir, 'kafka.log');
  const redisLog = path.join(logDir, 'redis.log');
  const startKafkaPart = async () => {
    if (useEnvKafka) return say(`Kafka: using TXPIPE_KAFKA_BROKERS=${kafkaBrokers.join(',')}`);
    if (cluster) {
      const k = await startKafkaCluster({
        dataDir: path.join(stackDir, 'kafka'),
        size: 3,
        basePort: kafkaPort,
        log: say,
        onExit: (nodeId, code) => say(`Kafka node ${nodeId} exited (${code}); the cluster goes on without it`),
      });
      stoppers.set('kafka', k.stop);
      kafkaBrokers = k.brokers;
      return;
    }
    const k = await startKafka({
      dataDir: path.join(stackDir, 'kafka'),
      port: kafkaPort,
      controllerPort: kafkaPort + 1,
      logFile: kafkaLog,
      log: say,
      onExit: onExit('kafka', kafkaLog),
    });
    stoppers.set('kafka', k.stop);
    kafkaBrokers = k.brokers;
  };
  const startRedisPart = async () => {
    if (useEnvRedis)
      return say(
        redisCluster
          ? `Redis: using TXPIPE_REDIS_CLUSTER=${redisCluster.join(',')}`
          : `Redis: using TXPIPE_REDIS_URL=${masked(redisUrl)}`,
      );
    if (cluster) {
      const r = await startRedisCluster({
        dir: path.join(stackDir, 'redis'),
        basePort: redisPort,
        log: say,
        onExit: (address, code) => say(`Redis node ${address} exited (${code}); its replica takes over`),
      });
      stoppers.set('redis', r.stop);
      redisCluster = r.nodes;
      return;
    }
    const r = await startRedis({
      dir: path.join(stackDir, 'redis'),
      port: redisPort,
      logFile: redisLog,
      onExit: onExit('redis', redisLog),
    });
    stoppers.set('redis', r.stop);
    redisUrl = r.url;
    say(`Redis ready at ${r.url}`);
  };
  await Promise.all([startKafkaPart(), startRedisPart()]);

  const replication = Math.min(3, kafkaBrokers.length);
  say(`creating topics ${cfg.topicPrefix}.* (${cfg.partitions} partitions, replication ${replication})`);
  await ensureTopics(kafkaBrokers, cfg.topicPrefix, cfg.partitions, replication);

  const devKey = developmentKey(cfg);
  const env = {
    ...process.env,
    TXPIPE_KEYS_FILE: path.resolve(repoRoot, cfg.auth.keysFile),
    TXPIPE_KAFKA_BROKERS: kafkaBrokers.join(','),
    TXPIPE_REDIS_URL: redisUrl,
    ...(redisCluster && { TXPIPE_REDIS_CLUSTER: redisCluster.join(',') }),
  };
  const apps = [
    ...processorPorts.map((port, i) => ({
      kind: 'processor' as const,
      name: (processorPorts.length > 1 ? `processor-${i + 1}` : 'processor') as Part,
      url: `http://${probeHost(cfg.processor.host)}:${port}`,
      env: { ...env, TXPIPE_PROCESSOR_PORT: String(port) },
    })),
    ...ingestPorts.map((port, i) => ({
      kind: 'ingest-api' as const,
      name: (ingestPorts.length > 1 ? `ingest-api-${i + 1}` : 'ingest-api') as Part,
      url: `http://${probeHost(cfg.ingest.host)}:${port}`,
      env: { ...env, TXPIPE_INGEST_PORT: String(port) },
    })),
  ];
  await Promise.all(
    apps.map((app) => {
      say(`starting ${app.name}`);
      return waitReady(app.name, startApp(app.kind, app.name, app.env), `${app.url}/readyz`);
    }),
  );

  let prometheusUrl: string | undefined;
  if (withPrometheus) {
    const promLog = path.join(logDir, 'prometheus.log');
    const prom = await startPrometheus({
      dir: path.join(stackDir, 'prometheus'),
      port: 9090,
      logFile: promLog,
      onExit: onExit('prometheus', promLog),
      targets: {
        ingest: ingestPorts.map((port) => `${probeHost(cfg.ingest.host)}:${port}`),
        processor: processorPorts.map((port) => `${probeHost(cfg.processor.host)}:${port}`),
      },
    });
    stoppers.set('prometheus', prom.stop);
    prometheusUrl = prom.url;
  }

  const rows: [string, string][] = [
    [
      'Kafka',
      `${kafkaBrokers.join(',')}${useEnvKafka ? ' (from env)' : cluster ? ' (3 KRaft nodes, replication 3, min.insync.replicas 2)' : ''}`,
    ],
    [
      'Redis',
      redisCluster
        ? `cluster ${redisCluster.join(',')}${useEnvRedis ? ' (from env)' : ' (3 masters, 3 replicas)'}`
        : `${masked(redisUrl)}${useEnvRedis ? ' (from env)' : ''}`,
    ],
    ...apps.map((app) => [app.name, app.kind === 'ingest-api' ? app.url : `${app.url}/metrics`] as [string, string]),
    ...(prometheusUrl
      ? [['Prometheus', `${prometheusUrl} (alerts: ${prometheusUrl}/alerts)`] as [string, string]]
      : []),
    ['logs', logDir],
  ];
  console.log('\ntxpipe is up');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(13)} ${v}`);
  if (devKey)
    console.log(
      `\nthe development key (every type, every read):\n  export TXPIPE_KEY=${devKey}\nthen: curl -H "authorization: Bearer $TXPIPE_KEY" ...`,
    );
  else console.log('\nTXPIPE_AUTH=off: no API key is asked for (trusted networks only)');
  console.log('Ctrl-C to stop\n');
}

main().catch((e: Error) => fail(e.message));
