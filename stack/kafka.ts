// KRaft Kafka nodes (combined broker + controller) run from the Maven-fetched jars: one node, or a
// cluster of several on loopback (each a voter of the controller quorum, topics replicated across them).
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
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
}

/** One node of a cluster: its id, the quorum it votes in, the cluster's id, and how far data is replicated. */
export interface KafkaClusterMember {
  nodeId: number;
  /** controller.quorum.voters: `<id>@127.0.0.1:<controller port>,...` */
  voters: string;
  clusterId: string;
  /** Copies of each internal topic's partitions (the group offsets, the producer ids), and the fewest in sync to write. */
  replication: number;
  minInsync: number;
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
  /** Omitted: a single node that is its own quorum. */
  cluster?: KafkaClusterMember;
  /** The JVM's heap ceiling (-Xmx). */
  heap?: string;
  log?: (s: string) => void;
  /** Called if the broker exits on its own after it was ready (not after stop()). */
  onExit?: (code: number | string | null) => void;
}

const log4jConfig = path.join(repoRoot, 'kafka', 'log4j2.yaml');

function serverProperties(
  dataDir: string,
  port: number,
  cport: number,
  proxied?: ProxiedListener,
  cluster?: KafkaClusterMember,
): string {
  const nodeId = cluster?.nodeId ?? 1;
  const replication = cluster?.replication ?? 1;
  const minInsync = cluster?.minInsync ?? 1;
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
    `node.id=${nodeId}`,
    `controller.quorum.voters=${cluster?.voters ?? `1@127.0.0.1:${cport}`}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${protocols.join(',')}`,
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    `offsets.topic.replication.factor=${replication}`,
    'offsets.topic.num.partitions=6',
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minInsync}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minInsync}`,
    // acks=all waits for this many copies: with fewer in sync a write is refused, never kept on one copy.
    `min.insync.replicas=${minInsync}`,
    `default.replication.factor=${replication}`,
    // A replica that was out of sync never becomes leader: it would drop acknowledged writes.
    'unclean.leader.election.enable=false',
    // A dead node is fenced (its partitions led elsewhere) after 4 s without a heartbeat, not the default 9:
    // the window in which ingest answers 503 for its partitions. Loopback has no network hiccups to ride out.
    ...(cluster ? ['broker.session.timeout.ms=4000', 'broker.heartbeat.interval.ms=1000'] : []),
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
export function clusterId(): string {
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
    throw new Error(
      'java not found: the local Kafka broker needs Java 17+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set TXPIPE_KAFKA_BROKERS',
    );
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
  fs.writeFileSync(props, serverProperties(dataDir, port, cport, opts.proxied, opts.cluster));
  const cp = `${libs}/*`;
  const javaArgs = [
    '-Xms256m',
    `-Xmx${opts.heap ?? '768m'}`,
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jConfig}`,
  ];
  // The broker's JVM as Kafka's own start scripts run it (KAFKA_JVM_PERFORMANCE_OPTS): G1 aiming at 20 ms
  // pauses (its default aim is 200 ms, which a produce waiting for its acknowledgement pays for), and the
  // GC log beside the broker's log. Only for the broker, not for the one-shot storage format.
  const brokerArgs = [
    '-server',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:MaxInlineLevel=15',
    `-Xlog:gc:file=${path.join(path.dirname(logFile), 'kafka-gc.log')}:time,uptime:filecount=2,filesize=10M`,
  ];

  if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
    log(`formatting Kafka storage in ${dataDir}`);
    const fmt = spawnSync(
      'java',
      [
        ...javaArgs,
        '-cp',
        cp,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        opts.cluster?.clusterId ?? clusterId(),
        '-c',
        props,
      ],
      { encoding: 'utf8' },
    );
    if (fmt.status !== 0) {
      throw new Error(`kafka storage format failed (exit ${fmt.status}):\n${(fmt.stdout + fmt.stderr).slice(-3000)}`);
    }
  }

  log(
    `starting Kafka${opts.cluster ? ` node ${opts.cluster.nodeId}` : ''} on 127.0.0.1:${port} (controller ${cport}), log ${logFile}`,
  );
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
  child.once('exit', (code, sig) => {
    if (!stopping) opts.onExit?.(code ?? sig);
  });
  const kill = async () => {
    stopping = true;
    if (exited(child)) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  return {
    brokers,
    stop: async () => {
      stopping = true;
      await stop();
    },
    kill,
  };
}

export interface KafkaCluster {
  brokers: string[];
  /** Each node, restartable after a kill on the same ports and data. */
  nodes: Array<{ nodeId: number; broker: string; server: KafkaServer | undefined; start(): Promise<void> }>;
  stop(): Promise<void>;
}

export interface StartKafkaClusterOptions {
  dataDir: string;
  size: number;
  /** The first node's port; each node takes two (broker, controller) after it. Omitted: free ports. */
  basePort?: number;
  log?: (s: string) => void;
  onExit?: (nodeId: number, code: number | string | null) => void;
}

/**
 * `size` KRaft nodes, each a broker and a voter: a quorum that survives the loss of a minority, and topics
 * (stack/topics.ts) with three copies of which two must be in sync to accept a write.
 */
export async function startKafkaCluster(opts: StartKafkaClusterOptions): Promise<KafkaCluster> {
  const ports: Array<{ port: number; cport: number }> = [];
  for (let i = 0; i < opts.size; i++) {
    ports.push(
      opts.basePort
        ? { port: opts.basePort + 2 * i, cport: opts.basePort + 2 * i + 1 }
        : { port: await freePort(), cport: await freePort() },
    );
  }
  const voters = ports.map((p, i) => `${i + 1}@127.0.0.1:${p.cport}`).join(',');
  const idFile = path.join(opts.dataDir, 'cluster-id');
  fs.mkdirSync(opts.dataDir, { recursive: true });
  // Every node is formatted with the same id; kept so a restart of the stack finds its formatted storage.
  const id = fs.existsSync(idFile) ? fs.readFileSync(idFile, 'utf8').trim() : clusterId();
  fs.writeFileSync(idFile, id);
  const replication = Math.min(3, opts.size);
  const nodes: KafkaCluster['nodes'] = ports.map((p, i) => {
    const nodeId = i + 1;
    const node: KafkaCluster['nodes'][number] = {
      nodeId,
      broker: `127.0.0.1:${p.port}`,
      server: undefined,
      start: async () => {
        node.server = await startKafka({
          dataDir: path.join(opts.dataDir, `node-${nodeId}`),
          port: p.port,
          controllerPort: p.cport,
          heap: '512m',
          log: opts.log,
          cluster: { nodeId, voters, clusterId: id, replication, minInsync: Math.max(1, replication - 1) },
          onExit: (code) => opts.onExit?.(nodeId, code),
        });
      },
    };
    return node;
  });
  // Together: no node is ready before a majority of the quorum runs.
  const started = await Promise.allSettled(nodes.map((n) => n.start()));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const stop = async () => {
    await Promise.all(nodes.flatMap((n) => (n.server ? [n.server.stop()] : [])));
  };
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { brokers: nodes.map((n) => n.broker), nodes, stop };
}
