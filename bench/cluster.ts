// `npm run bench:cluster [-- --smoke]`: how the pipeline scales out, on the cluster topology (3 KRaft
// nodes, a Redis Cluster of 3 masters + 3 replicas), side by side in one run:
//   drain   the same preloaded backlog applied by 1, then 2 processors in one group;
//   accept  single-transaction POSTs for a bounded time through 1, then 2 ingest-apis.
// It reports rates and, what carries to a bigger machine, the CPU each process spent per transaction and
// the work done per CPU second (the scaling efficiency). Results: bench/results/cluster-<date>.{json,md}.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { topics as topicNames } from '../common/config.ts';
import { repoRoot } from '../stack/kafka-jars.ts';
import { freePort } from '../stack/ports.ts';
import { provideClusterServices } from '../stack/services.ts';
import { ensureTopics } from '../stack/topics.ts';
import { benchKafka, groupLag, percentile, preload } from './lib/kafka.ts';
import { benchAuthEnv } from './lib/pipeline.ts';
import { Service } from '../stack/app-service.ts';
import { CpuWatch, pidListening, round } from './lib/procs.ts';
import { makeWorld, mixStream, setup, type Body } from './mix.ts';

const { values: flags } = parseArgs({
  options: { smoke: { type: 'boolean' }, messages: { type: 'string' }, seconds: { type: 'string' } },
});
const plan = flags.smoke
  ? { messages: 2000, acceptSeconds: 3, concurrency: 16, drainTimeoutS: 120 }
  : {
      messages: Number(flags.messages ?? 60_000),
      acceptSeconds: Number(flags.seconds ?? 15),
      concurrency: 64,
      drainTimeoutS: 300,
    };
const say = (s: string) => console.log(`[bench:cluster] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-bench-cluster-'));

const svc = await provideClusterServices({ log: say });
const kafka = benchKafka(svc.kafkaBrokers);
const admin = kafka.admin();
await admin.connect();
const baseEnv = {
  ...process.env,
  TXPIPE_KAFKA_BROKERS: svc.kafkaBrokers.join(','),
  TXPIPE_REDIS_CLUSTER: svc.redisCluster!.join(','),
  TXPIPE_LOG_LEVEL: 'warn',
  ...benchAuthEnv(),
};
// With TXPIPE_AUTH=on, the bench's key (benchAuthEnv put it in TXPIPE_KEY) on every request.
const authHeader: Record<string, string> = process.env.TXPIPE_KEY
  ? { authorization: `Bearer ${process.env.TXPIPE_KEY}` }
  : {};

async function services(
  kind: Service['name'],
  count: number,
  prefix: string,
): Promise<Array<{ service: Service; url: string }>> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const port = await freePort();
      const portVar = kind === 'ingest-api' ? 'TXPIPE_INGEST_PORT' : 'TXPIPE_PROCESSOR_PORT';
      const url = `http://127.0.0.1:${port}`;
      const service = new Service(
        kind,
        { ...baseEnv, TXPIPE_TOPIC_PREFIX: prefix, [portVar]: String(port) },
        `${url}/readyz`,
        {
          logFile: path.join(workDir, `${prefix}-${kind}-${i + 1}.log`),
        },
      );
      return { service, url };
    }),
  );
}

/** The Kafka brokers and Redis nodes, found by their ports: their CPU per transaction is part of the bill. */
const infrastructure = Object.fromEntries([
  ...svc.kafkaBrokers.map((b, i) => [`kafka-${i + 1}`, pidListening(Number(b.split(':')[1]))] as const),
  ...svc.redisCluster!.map((n, i) => [`redis-${i + 1}`, pidListening(Number(n.split(':')[1]))] as const),
]);

const pidsOf = (list: Array<{ service: Service }>, name: string) => () => ({
  ...Object.fromEntries(list.map(({ service }, i) => [`${name}-${i + 1}`, service.pid])),
  ...infrastructure,
});

/** CPU seconds a stage's named processes spent, from the watch's cores and the stage's length. */
const cpuOf = (cores: Record<string, number>, name: string, seconds: number) =>
  Object.entries(cores)
    .filter(([k]) => k.startsWith(name))
    .reduce((sum, [, c]) => sum + c * seconds, 0);

async function drain(processors: number) {
  const prefix = `bc${Date.now().toString(36)}p${processors}`;
  const topics = topicNames(prefix);
  await ensureTopics(svc.kafkaBrokers, prefix, 6, 3);
  const world = makeWorld(prefix, { accounts: 2000, skus: 50, events: 10, seatsPerEvent: 500 });
  const setupBodies = setup(world);
  const total = setupBodies.length + plan.messages;
  function* all(): Generator<Body> {
    yield* setupBodies;
    yield* mixStream(world, plan.messages, 7);
  }
  const pre = await preload(kafka, topics, all(), `${prefix}-`);
  say(`drain, ${processors} processor(s): ${pre.records} messages preloaded in ${pre.seconds.toFixed(1)} s`);
  const list = await services('processor', processors, prefix);
  const watch = new CpuWatch(pidsOf(list, 'processor'));
  const t0 = performance.now();
  watch.start();
  const started = Promise.all(list.map(({ service }) => service.start(plan.drainTimeoutS * 1000)));
  let last = { lag: total, committed: 0, end: total };
  while (performance.now() - t0 < plan.drainTimeoutS * 1000) {
    await sleep(500);
    // A just-created topic's offsets can come back incomplete from kafkajs for a moment: ask again next tick.
    last = await groupLag(admin, `${prefix}-processor`, topics).catch(() => last);
    if (last.lag === 0 && last.committed >= total) break;
  }
  await started.catch(() => undefined);
  const seconds = (performance.now() - t0) / 1000;
  const { cores, peakRssMb } = watch.stop();
  await Promise.all(list.map(({ service }) => service.stop()));
  const cpu = cpuOf(cores, 'processor', seconds);
  const perTx = (name: string) => round((cpuOf(cores, name, seconds) / total) * 1e6, 0);
  const row = {
    processors,
    transactions: total,
    drained: last.lag === 0,
    seconds: round(seconds, 1),
    txPerS: round(total / seconds, 0),
    processorCpuS: round(cpu, 1),
    cpuUsPerTx: round((cpu / total) * 1e6, 0),
    txPerCpuS: round(total / cpu, 0),
    kafkaUsPerTx: perTx('kafka'),
    redisUsPerTx: perTx('redis'),
    cores,
    peakRssMb,
  };
  say(
    `  ${row.drained ? 'drained' : `NOT drained (lag ${last.lag})`} in ${row.seconds} s: ${row.txPerS} tx/s, ${row.cpuUsPerTx} µs processor CPU per transaction; cores ${JSON.stringify(cores)}`,
  );
  return row;
}

async function accept(ingests: number) {
  const prefix = `bc${Date.now().toString(36)}i${ingests}`;
  await ensureTopics(svc.kafkaBrokers, prefix, 6, 3);
  const list = await services('ingest-api', ingests, prefix);
  await Promise.all(list.map(({ service }) => service.start()));
  const world = makeWorld(prefix, { accounts: 2000, skus: 50, events: 10, seatsPerEvent: 500 });
  const bodies = [...mixStream(world, 5000, 11)].map((b) => JSON.stringify(b));
  const watch = new CpuWatch(pidsOf(list, 'ingest-api'));
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const t0 = performance.now();
  const deadline = t0 + plan.acceptSeconds * 1000;
  watch.start();
  // A closed loop: `concurrency` clients, each posting its next transaction as soon as the last is answered.
  await Promise.all(
    Array.from({ length: plan.concurrency }, async (_, client) => {
      while (performance.now() < deadline) {
        const n = sent++;
        const started = performance.now();
        const status = await fetch(`${list[n % list.length]!.url}/v1/transactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeader },
          body: bodies[(n + client) % bodies.length],
        }).then(
          async (r) => (await r.arrayBuffer(), r.status),
          () => 0,
        );
        latencies.push(performance.now() - started);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const { cores, peakRssMb } = watch.stop();
  await Promise.all(list.map(({ service }) => service.stop()));
  const accepted = statuses.get(202) ?? 0;
  const cpu = cpuOf(cores, 'ingest-api', seconds);
  const perRequest = (name: string) => round((cpuOf(cores, name, seconds) / Math.max(1, accepted)) * 1e6, 0);
  latencies.sort((a, b) => a - b);
  const row = {
    ingests,
    requests: sent,
    accepted,
    statuses: Object.fromEntries(statuses),
    seconds: round(seconds, 1),
    acceptedPerS: round(accepted / seconds, 0),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    ingestCpuS: round(cpu, 1),
    cpuUsPerRequest: round((cpu / Math.max(1, accepted)) * 1e6, 0),
    requestsPerCpuS: round(accepted / cpu, 0),
    kafkaUsPerTx: perRequest('kafka'),
    redisUsPerTx: perRequest('redis'),
    cores,
    peakRssMb,
  };
  say(
    `  accept, ${ingests} ingest-api(s): ${row.acceptedPerS} accepted/s, p99 ${row.p99Ms} ms, ${row.cpuUsPerRequest} µs ingest CPU per request; cores ${JSON.stringify(cores)}`,
  );
  return row;
}

try {
  const drains = [await drain(1), await drain(2)];
  const accepts = [await accept(1), await accept(2)];
  const efficiency = {
    drain: round(drains[1]!.txPerCpuS / drains[0]!.txPerCpuS, 2),
    accept: round(accepts[1]!.requestsPerCpuS / accepts[0]!.requestsPerCpuS, 2),
  };
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    plan,
    drains,
    accepts,
    efficiency,
  };
  const table = [
    '| stage | instances | rate | service CPU per transaction | transactions per service CPU second | Kafka (3) CPU per tx | Redis (6) CPU per tx | machine busy (cores) |',
    '|---|---|---|---|---|---|---|---|',
    ...drains.map(
      (d) =>
        `| drain | ${d.processors} processor(s) | ${d.txPerS} tx/s | ${d.cpuUsPerTx} µs | ${d.txPerCpuS} | ${d.kafkaUsPerTx} µs | ${d.redisUsPerTx} µs | ${d.cores.machine} (other ${d.cores.other}) |`,
    ),
    ...accepts.map(
      (a) =>
        `| accept | ${a.ingests} ingest-api(s) | ${a.acceptedPerS} req/s (p99 ${a.p99Ms} ms) | ${a.cpuUsPerRequest} µs | ${a.requestsPerCpuS} | ${a.kafkaUsPerTx} µs | ${a.redisUsPerTx} µs | ${a.cores.machine} (other ${a.cores.other}) |`,
    ),
    '',
    `Scaling efficiency (work per CPU second, 2 instances against 1): drain ${efficiency.drain}, accept ${efficiency.accept}.`,
  ].join('\n');
  console.log(`\n${table}\n`);
  if (!flags.smoke) {
    const dir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const stem = path.join(dir, `cluster-${result.date.slice(0, 10)}`);
    fs.writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(`${stem}.md`, `${table}\n`);
    say(`results in ${stem}.{json,md}`);
  }
  const problems = [
    ...drains.filter((d) => !d.drained).map((d) => `${d.processors} processor(s) did not drain`),
    ...accepts.filter((a) => !a.accepted).map((a) => `${a.ingests} ingest-api(s) accepted nothing`),
  ];
  if (problems.length) throw new Error(problems.join('; '));
} finally {
  await admin.disconnect();
  await svc.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
}
