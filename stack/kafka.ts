// A single-node KRaft Kafka broker (combined broker + controller) run from the Maven-fetched jars.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, repoRoot } from './kafka-jars.ts';
import { freePort } from './ports.ts';
import { commandExists, exited, logTo, sleep, spawnOwned, stopChild, tail } from './proc.ts';

export interface KafkaServer {
  brokers: string[];
  stop(): Promise<void>;
}

/**
 * A second listener for clients that must go through a proxy (toxiproxy in tests): the broker listens on
 * `port` and advertises `advertisedPort`, where the proxy listens and forwards to `port`. Clients follow
 * the advertised address, so one that bootstraps on the proxy keeps talking through it.
 */
export interface ProxiedListener {
  port: number;
  advertisedPort: number;
}

export interface StartKafkaOptions {
  dataDir: string;
  port?: number;
  controllerPort?: number;
  logFile?: string;
  proxied?: ProxiedListener;
  log?: (s: string) => void;
  /** Called if the broker exits on its own after it was ready (not after stop()). */
  onExit?: (code: number | string | null) => void;
}

const log4jConfig = path.join(repoRoot, 'kafka', 'log4j2.yaml');

function serverProperties(dataDir: string, port: number, cport: number, proxied?: ProxiedListener): string {
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${cport}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  if (proxied) {
    listeners.push(`PROXIED://127.0.0.1:${proxied.port}`);
    advertised.push(`PROXIED://127.0.0.1:${proxied.advertisedPort}`);
    protocols.push('PROXIED:PLAINTEXT');
  }
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${cport}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${protocols.join(',')}`,
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Request threads for a small local box (defaults 3 network + 8 I/O): on 2 cores the extra threads only
    // add context switches between the broker and the processes it serves.
    'num.network.threads=2',
    'num.io.threads=2',
    // Topics come from ensureTopics only, so a typo in a topic name fails loudly instead of creating one.
    'auto.create.topics.enable=false',
    'num.partitions=6',
    '',
  ].join('\n');
}

/** Kafka's cluster id: 16 random bytes, base64url without padding (22 chars). */
function clusterId(): string {
  // A leading '-' would be read by StorageTool's argument parser as an option (Kafka's own Uuid avoids it too).
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Resolves once a kafkajs admin can list topics; used for our broker and for containers. */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  alive: () => string | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = 'no attempt';
  while (Date.now() < deadline) {
    const dead = alive();
    if (dead) throw new Error(dead);
    const admin = new Kafka({
      clientId: 'txpipe-stack-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return;
    } catch (e) {
      lastErr = (e as Error).message;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(300);
  }
  throw new Error(`Kafka at ${brokers.join(',')} not ready after ${timeoutMs / 1000} s (last error: ${lastErr})`);
}

export async function startKafka(opts: StartKafkaOptions): Promise<KafkaServer> {
  const log = opts.log ?? (() => {});
  const libs = await ensureKafkaJars(log);
  // The jars may be cached from a machine state where java was present; say so plainly, not "exit null".
  if (!commandExists('java', ['-version'])) {
    throw new Error('java not found: the local Kafka broker needs Java 17+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set TXPIPE_KAFKA_BROKERS');
  }
  const port = opts.port ?? (await freePort());
  const cport = opts.controllerPort ?? (await freePort());
  const dataDir = path.resolve(opts.dataDir);
  const logFile = path.resolve(opts.logFile ?? path.join(dataDir, 'kafka.log'));
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });

  // Regenerated every start so the ports may change; the formatted storage does not depend on them.
  // Kafka ignores plain files in log.dirs, so the config and default log can live there.
  const props = path.join(dataDir, 'server.properties');
  fs.writeFileSync(props, serverProperties(dataDir, port, cport, opts.proxied));
  const cp = `${libs}/*`;
  const javaArgs = ['-Xms256m', '-Xmx768m', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jConfig}`];
  // The broker's JVM as Kafka's own start scripts run it (KAFKA_JVM_PERFORMANCE_OPTS): G1 aiming at 20 ms
  // pauses (its default aim is 200 ms, which a produce waiting for its acknowledgement pays for), and the
  // GC log beside the broker's log. Only for the broker, not for the one-shot storage format.
  const brokerArgs = [
    '-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent', '-XX:MaxInlineLevel=15',
    `-Xlog:gc:file=${path.join(path.dirname(logFile), 'kafka-gc.log')}:time,uptime:filecount=2,filesize=10M`,
  ];

  if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    log(`formatting Kafka storage in ${dataDir}`);
    const fmt = spawnSync(
      'java',
      [...javaArgs, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props],
      { encoding: 'utf8' },
    );
    if (fmt.status !== 0) {
      throw new Error(`kafka storage format failed (exit ${fmt.status}):\n${(fmt.stdout + fmt.stderr).slice(-3000)}`);
    }
  }

  log(`starting Kafka on 127.0.0.1:${port} (controller ${cport}), log ${logFile}`);
  const t0 = Date.now();
  fs.appendFileSync(logFile, `\n==== broker start ${new Date().toISOString()} port ${port} ====\n`);
  const child = spawnOwned('java', [...javaArgs, ...brokerArgs, '-cp', cp, 'kafka.Kafka', props], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logTo(child, logFile);
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const brokers = [`127.0.0.1:${port}`];
  const stop = () => stopChild(child, 15_000);
  try {
    await waitForKafka(brokers, 60_000, () => {
      if (spawnError) return `could not run java: ${spawnError.message}`;
      if (exited(child)) return `Kafka exited (code ${child.exitCode ?? child.signalCode}) while starting`;
      return null;
    });
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n--- tail of ${logFile} ---\n${tail(logFile, 40)}`, { cause: e });
  }
  log(`Kafka ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  let stopping = false;
  child.once('exit', (code, sig) => { if (!stopping) opts.onExit?.(code ?? sig); });
  return { brokers, stop: async () => { stopping = true; await stop(); } };
}
