// `npm start`: Kafka + Redis (unless given by env), topics, then ingest-api and processor; Ctrl-C stops all.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../common/config.ts';
import { masked, parseStartArgs, usage, UsageError, type StartOptions } from './cli.ts';
import { repoRoot } from './kafka-jars.ts';
import { startKafka } from './kafka.ts';
import { portIsFree } from './ports.ts';
import { commandExists, exited, serviceNodeArgs, sleep, spawnOwned, stopChild, tail } from './proc.ts';
import { prometheusMissing, startPrometheus } from './prometheus.ts';
import { startRedis } from './redis.ts';
import { ensureTopics } from './topics.ts';

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
const { quiet, prometheus: withPrometheus, kafkaPort, redisPort } = options;
// A stack on other ports keeps its data and logs apart, so two can run side by side from one checkout.
const defaultPorts = kafkaPort === 9092 && redisPort === 6379;
const stackDir = path.join(repoRoot, '.stack', ...(defaultPorts ? [] : [`${kafkaPort}-${redisPort}`]));
const logDir = path.join(stackDir, 'logs');
const say = (s: string) => console.log(`[stack] ${s}`);

type Part = 'prometheus' | 'ingest-api' | 'processor' | 'kafka' | 'redis';
// Shutdown order: stop taking requests first, then the consumer, then the infrastructure under them.
const order: Part[] = ['prometheus', 'ingest-api', 'processor', 'kafka', 'redis'];
const stoppers = new Map<Part, () => Promise<void>>();
let stopping: Promise<void> | undefined;
let exitCode = 0;
let firstSignalAt = 0;

async function stopAll(): Promise<void> {
  if (stoppers.size) say('stopping...');
  for (const part of order) {
    const stop = stoppers.get(part);
    if (!stop) continue;
    await stop().catch((e: Error) => say(`${part}: ${e.message}`));
    say(`${part} stopped`);
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
    throw new Error(`port ${port} (${what}) is already in use: stop what listens there, or set ${envVar} to use another`);
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

function startApp(name: 'ingest-api' | 'processor', env: NodeJS.ProcessEnv): ChildProcess {
  const logFile = path.join(logDir, `${name}.log`);
  const out = fs.createWriteStream(logFile, { flags: 'a' });
  out.write(`\n==== ${name} start ${new Date().toISOString()} ====\n`);
  // `node --import tsx` runs the TypeScript entry in this one process (no tsx wrapper process to signal).
  const child = spawnOwned(process.execPath, serviceNodeArgs(name), {
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
  stoppers.set(name, () => stopChild(child, name === 'processor' ? 15_000 : 10_000));
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
  throw new Error(`${name} not ready at ${url} after ${timeoutMs / 1000} s (${last}); tail of ${logFile}:\n${tail(logFile, 30)}`);
}

// A wildcard bind address is reachable on loopback; probe that.
const probeHost = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);

async function main(): Promise<void> {
  const cfg = loadConfig();
  fs.mkdirSync(logDir, { recursive: true });
  const useEnvKafka = Boolean(process.env.TXPIPE_KAFKA_BROKERS);
  const useEnvRedis = Boolean(process.env.TXPIPE_REDIS_URL);
  const onExit = (part: Part, file: string) => (code: number | string | null) =>
    void fail(`${part} exited unexpectedly (${code}); tail of ${file}:\n${tail(file, 30)}`);

  // Fail on taken ports before starting anything, so the message names the culprit.
  if (!useEnvKafka) {
    await requireFree(kafkaPort, 'Kafka', 'TXPIPE_KAFKA_PORT (or --kafka-port)');
    await requireFree(kafkaPort + 1, 'Kafka controller', 'TXPIPE_KAFKA_PORT (or --kafka-port)');
  }
  if (!useEnvRedis) await requireFree(redisPort, 'Redis', 'TXPIPE_REDIS_PORT (or --redis-port)');
  await requireFree(cfg.ingest.port, 'ingest-api', 'TXPIPE_INGEST_PORT');
  await requireFree(cfg.processor.port, 'processor metrics', 'TXPIPE_PROCESSOR_PORT');
  if (withPrometheus) {
    if (!commandExists('prometheus')) throw new Error(prometheusMissing);
    if (!(await portIsFree(9090))) throw new Error('port 9090 (Prometheus) is already in use: stop what listens there, or drop --prometheus');
  }

  let kafkaBrokers = cfg.kafkaBrokers;
  let redisUrl = cfg.redisUrl;
  const kafkaLog = path.join(logDir, 'kafka.log');
  const redisLog = path.join(logDir, 'redis.log');
  await Promise.all([
    useEnvKafka
      ? say(`Kafka: using TXPIPE_KAFKA_BROKERS=${kafkaBrokers.join(',')}`)
      : startKafka({
          dataDir: path.join(stackDir, 'kafka'),
          port: kafkaPort,
          controllerPort: kafkaPort + 1,
          logFile: kafkaLog,
          log: say,
          onExit: onExit('kafka', kafkaLog),
        }).then((k) => {
          stoppers.set('kafka', k.stop);
          kafkaBrokers = k.brokers;
        }),
    useEnvRedis
      ? say(`Redis: using TXPIPE_REDIS_URL=${masked(redisUrl)}`)
      : startRedis({ dir: path.join(stackDir, 'redis'), port: redisPort, logFile: redisLog, onExit: onExit('redis', redisLog) }).then(
          (r) => {
            stoppers.set('redis', r.stop);
            redisUrl = r.url;
            say(`Redis ready at ${r.url}`);
          },
        ),
  ]);

  say(`creating topics ${cfg.topicPrefix}.* (${cfg.partitions} partitions)`);
  await ensureTopics(kafkaBrokers, cfg.topicPrefix, cfg.partitions);

  const env = { ...process.env, TXPIPE_KAFKA_BROKERS: kafkaBrokers.join(','), TXPIPE_REDIS_URL: redisUrl };
  const apps = [
    { name: 'processor' as const, url: `http://${probeHost(cfg.processor.host)}:${cfg.processor.port}/readyz` },
    { name: 'ingest-api' as const, url: `http://${probeHost(cfg.ingest.host)}:${cfg.ingest.port}/readyz` },
  ];
  const waits: Promise<void>[] = [];
  const started: string[] = [];
  for (const app of apps) {
    say(`starting ${app.name}`);
    waits.push(waitReady(app.name, startApp(app.name, env), app.url));
    started.push(app.name);
  }
  await Promise.all(waits);

  let prometheusUrl: string | undefined;
  if (withPrometheus) {
    const promLog = path.join(logDir, 'prometheus.log');
    const prom = await startPrometheus({
      dir: path.join(stackDir, 'prometheus'),
      port: 9090,
      logFile: promLog,
      onExit: onExit('prometheus', promLog),
      targets: {
        ingest: `${probeHost(cfg.ingest.host)}:${cfg.ingest.port}`,
        processor: `${probeHost(cfg.processor.host)}:${cfg.processor.port}`,
      },
    });
    stoppers.set('prometheus', prom.stop);
    prometheusUrl = prom.url;
  }

  const rows: [string, string][] = [
    ['Kafka', `${kafkaBrokers.join(',')}${useEnvKafka ? ' (from env)' : ''}`],
    ['Redis', `${masked(redisUrl)}${useEnvRedis ? ' (from env)' : ''}`],
    ['ingest-api', started.includes('ingest-api') ? `http://${cfg.ingest.host}:${cfg.ingest.port}` : '(not started)'],
    ['processor', started.includes('processor') ? `http://${cfg.processor.host}:${cfg.processor.port}/metrics` : '(not started)'],
    ...(prometheusUrl ? [['Prometheus', `${prometheusUrl} (alerts: ${prometheusUrl}/alerts)`] as [string, string]] : []),
    ['logs', logDir],
  ];
  console.log('\ntxpipe is up');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(11)} ${v}`);
  console.log('Ctrl-C to stop\n');
}

main().catch((e: Error) => fail(e.message));
