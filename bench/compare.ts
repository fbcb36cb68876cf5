// Side by side: this checkout against another version, in one run on the same Kafka and Redis, rounds
// alternating (A B, B A, ...) so that noise from anything else on the machine hits both alike.
//   npm run bench:compare -- --base HEAD~1 [--rounds 2] [--rate 1500] [--seconds 15] [--drain 200000] [--only ingest|drain]
//     [--wrk] (also the closed-loop maximum)  [--work <dir>] (instead of this checkout)
//     [--only overload] (k6/overload.js at --rate: 202s and 503s, their p99s)
//     [--only memory [--memory-n 10000]] (Redis bytes per retained transaction, by type)
//     [--profile <dir>] [--profile-base <dir>] (the working tree's / the base's services write V8 CPU profiles there)
//     [--node-args-work '--a --b'] [--node-args-base ...] (more node flags for that side's services)
//     [--env-base K=V,K=V] [--env-work K=V] (environment of each side's services, to compare settings)
// Reports per version: accept latency at a fixed arrival rate, the closed-loop maximum (wrk), CPU per
// request of ingest-api, and the processor's drain rate with its CPU per message; then the ratios.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { topics as topicNames } from '../common/config.ts';
import { repoRoot } from '../stack/kafka-jars.ts';
import { sleep } from '../stack/proc.ts';
import { provideServices, type Services } from '../stack/services.ts';
import { ensureTopics } from '../stack/topics.ts';
import { ensureK6, runK6 } from './lib/k6.ts';
import { benchKafka, groupLag, highWatermarks, percentile, preload, readRange, waitForLag0 } from './lib/kafka.ts';
import { measureRedisBytes, memoryTypes, memoryWorldSize, type MemoryRow } from './lib/memory.ts';
import { startPipeline } from './lib/pipeline.ts';
import { cpuSeconds, memoryMb, pidListening, round } from './lib/procs.ts';
import { makeWorld, mixBodies, mixStream, setup, type Body } from './mix.ts';

const argv = process.argv.slice(2);
const option = (name: string, dflt?: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : (argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
};
const baseRef = option('base', 'HEAD')!;
const rounds = Number(option('rounds', '2'));
const rate = Number(option('rate', '1500'));
const seconds = Number(option('seconds', '15'));
const drainN = Number(option('drain', '200000'));
const only = option('only');
const withWrk = argv.includes('--wrk');
/** Transactions a type in the memory rounds (--only memory): 20 events of 2,000 seats hold 20,000 two-seat holds. */
const memoryN = Math.min(Number(option('memory-n', '10000')), 20_000);
const envBase = option('env-base')?.split(',').filter(Boolean) ?? [];
const envWork = option('env-work')?.split(',').filter(Boolean) ?? [];
/** --profile <dir>: the working tree's services write V8 CPU profiles (--cpu-prof) there. */
const profileDir = option('profile');
const profileBaseDir = option('profile-base');
const nodeArgsOf = (v: { label: string }) => {
  const work = v.label === 'working tree';
  const dir = work ? profileDir : profileBaseDir;
  const more =
    option(work ? 'node-args-work' : 'node-args-base')
      ?.split(' ')
      .filter(Boolean) ?? [];
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : []), ...more];
};
const envOf = (v: { label: string }) =>
  Object.fromEntries(
    (v.label === 'working tree' ? envWork : envBase).map((kv) => [
      kv.slice(0, kv.indexOf('=')),
      kv.slice(kv.indexOf('=') + 1),
    ]),
  );
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const workDir = path.join(repoRoot, '.cache', 'bench', `compare-${stamp}`);
fs.mkdirSync(workDir, { recursive: true });
const say = (s: string) => console.log(`[compare ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** A checkout of `ref` (git archive) under .cache/bench/variants, sharing this node_modules; or a directory. */
function variantDir(ref: string): { dir: string; label: string } {
  if (fs.existsSync(ref) && fs.statSync(ref).isDirectory()) return { dir: path.resolve(ref), label: ref };
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: repoRoot, encoding: 'utf8' }).trim();
  const dir = path.join(repoRoot, '.cache', 'bench', 'variants', sha);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('bash', ['-c', `git archive ${sha} | tar -x -C '${dir}'`], { cwd: repoRoot });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  }
  return { dir, label: `${ref} (${sha})` };
}

interface Sample {
  variant: string;
  fixed?: {
    rate: number;
    p50: number;
    p99: number;
    failed: number;
    dropped: number;
    ingestCpuMsPerReq: number;
    processorCpuMsPerReq: number;
    kafkaCpuMsPerReq: number;
    redisCpuMsPerReq: number;
    k6CpuMsPerReq: number;
    /** Accept -> applied, from the outcome records (first deliveries), all types and transfers alone. */
    e2eP50: number;
    e2eP99: number;
    e2eTransferP99: number;
    e2eOtherP99: number;
  };
  wrk?: { rps: number; ingestCpuMsPerReq: number };
  drain?: {
    msgPerS: number;
    txPerS: number;
    processorCpuMsPerMsg: number;
    redisCpuMsPerMsg: number;
    /** The processor's peak RSS (VmHWM) over the drain. */
    processorPeakRssMb: number;
    seconds: number;
  };
  memory?: MemoryRow[];
  overload?: {
    rate: number;
    accepted: number;
    shed: number;
    other: number;
    p99Accepted: number;
    p99Shed: number;
    ingestCpuMsPerReq: number;
  };
}

const cpuOf = (pid: number | undefined) => (pid ? (cpuSeconds(pid) ?? 0) : 0);

/** The benchmark's world: 10,000 accounts, 100 skus, 20 events of 2,000 seats (as in npm run bench). */
const worldSize = { accounts: 10_000, skus: 100, events: 20, seatsPerEvent: 2000 };

/** A round's own topics (its prefix), world, Kafka client and connected admin. */
async function roundOn(svc: Services, prefix: string, size = worldSize) {
  await ensureTopics(svc.kafkaBrokers, prefix, 6);
  const kafka = benchKafka(svc.kafkaBrokers);
  const admin = kafka.admin();
  await admin.connect();
  return { world: makeWorld(prefix, size), kafka, admin, topics: topicNames(prefix) };
}

/** k6 `script` against `url` at `rate` for `seconds` (killed `slackS` later), its log in the work dir. */
const k6Run = (
  k6: string,
  script: string,
  url: string,
  bodiesFile: string,
  rate: number,
  seconds: number,
  slackS = 60,
) =>
  runK6(
    k6,
    script,
    { BASE_URL: url, BODIES: bodiesFile, RATE: rate, DURATION: `${seconds}s` },
    { timeoutMs: (seconds + slackS) * 1000, logFile: path.join(workDir, 'k6.log') },
  );

/** A round with both services of version `v` running on its own prefix, its world's setup preloaded. */
async function pipelineRound(svc: Services, v: { dir: string; label: string }, prefix: string, size = worldSize) {
  const round = await roundOn(svc, prefix, size);
  await preload(round.kafka, round.topics, setup(round.world), `${prefix}-s-`);
  const p = await startPipeline(svc, prefix, {
    workDir,
    ingest: true,
    processor: true,
    appDir: v.dir,
    env: envOf(v),
    nodeArgs: nodeArgsOf(v),
  });
  return { ...round, p };
}

async function ingestRound(
  svc: Services,
  k6: string,
  v: { dir: string; label: string },
  tag: string,
  bodiesFile: string,
  ndjson: string,
): Promise<Sample> {
  const { kafka, admin, topics, p } = await pipelineRound(svc, v, `c${tag}`);
  const sample: Sample = { variant: v.label };
  const kafkaPid = pidListening(Number(svc.kafkaBrokers[0]!.split(':').pop()));
  const redisPid = pidListening(Number(new URL(svc.redisUrl).port || 6379));
  try {
    await waitForLag0(admin, p.groupId, topics, 60_000);
    await k6Run(k6, 'k6/ingest.js', p.url, bodiesFile, Math.round(rate / 2), 3);
    await waitForLag0(admin, p.groupId, topics, 60_000);
    const from = await highWatermarks(admin, topics.results);
    const [i0, p0, k0, r0] = [cpuOf(p.ingest.pid), cpuOf(p.processor.pid), cpuOf(kafkaPid), cpuOf(redisPid)];
    const r = await k6Run(k6, 'k6/ingest.js', p.url, bodiesFile, rate, seconds);
    const i1 = cpuOf(p.ingest.pid);
    await waitForLag0(admin, p.groupId, topics, 60_000);
    const [p2, k2, r2] = [cpuOf(p.processor.pid), cpuOf(kafkaPid), cpuOf(redisPid)];
    const outcomes = (await readRange(kafka, topics.results, from, await highWatermarks(admin, topics.results))).filter(
      (o) => !o.duplicate,
    );
    const e2e = (keep: (type: string) => boolean) =>
      outcomes
        .filter((o) => keep(o.type))
        .map((o) => o.appliedAt - o.ingestedAt)
        .sort((a, b) => a - b);
    const all = e2e(() => true);
    sample.fixed = {
      rate,
      p50: round(r.p50, 2),
      p99: round(r.p99, 2),
      failed: r.failed,
      dropped: r.droppedIterations,
      ingestCpuMsPerReq: round(((i1 - i0) * 1000) / r.requests, 3),
      processorCpuMsPerReq: round(((p2 - p0) * 1000) / r.requests, 3),
      kafkaCpuMsPerReq: round(((k2 - k0) * 1000) / r.requests, 3),
      redisCpuMsPerReq: round(((r2 - r0) * 1000) / r.requests, 3),
      k6CpuMsPerReq: round((r.k6Cores * r.durationS * 1000) / r.requests, 3),
      e2eP50: percentile(all, 50),
      e2eP99: percentile(all, 99),
      e2eTransferP99: percentile(
        e2e((t) => t === 'wallet.transfer'),
        99,
      ),
      e2eOtherP99: percentile(
        e2e((t) => t !== 'wallet.transfer'),
        99,
      ),
    };
    if (withWrk) {
      const c0 = cpuOf(p.ingest.pid);
      const out = execFileSync(
        'wrk',
        ['-t1', '-c64', `-d${seconds}s`, '-s', path.join(repoRoot, 'bench', 'wrk-mix.lua'), `${p.url}/v1/transactions`],
        {
          encoding: 'utf8',
          env: { ...process.env, BODIES: ndjson },
          timeout: (seconds + 30) * 1000,
        },
      );
      const c1 = cpuOf(p.ingest.pid);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const n = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
      sample.wrk = { rps: round(rps, 0), ingestCpuMsPerReq: round(((c1 - c0) * 1000) / n, 3) };
      await waitForLag0(admin, p.groupId, topics, 120_000);
    }
  } finally {
    await Promise.all([p.ingest.stop(), p.processor.stop()]);
    await admin.disconnect();
  }
  return sample;
}

async function drainRound(svc: Services, v: { dir: string; label: string }, tag: string): Promise<Sample> {
  const prefix = `d${tag}`;
  const { world, kafka, admin, topics } = await roundOn(svc, prefix);
  const s = setup(world);
  function* all(): Generator<Body> {
    yield* s;
    yield* mixStream(world, drainN, 7);
  }
  const total = s.length + drainN;
  await preload(kafka, topics, all(), `${prefix}-`);
  const p = await startPipeline(svc, prefix, {
    workDir,
    ingest: false,
    processor: false,
    appDir: v.dir,
    env: envOf(v),
    nodeArgs: nodeArgsOf(v),
  });
  const redisPid = pidListening(Number(new URL(svc.redisUrl).port || 6379));
  const r0 = cpuOf(redisPid);
  const t0 = performance.now();
  await p.processor.start();
  let last = { lag: total, committed: 0, end: total };
  while (performance.now() - t0 < 600_000) {
    last = await groupLag(admin, p.groupId, topics);
    if (last.lag === 0 && last.committed >= total) break;
    await sleep(250);
  }
  const secs = (performance.now() - t0) / 1000;
  const pc = cpuOf(p.processor.pid);
  const r1 = cpuOf(redisPid);
  const hwm = p.processor.pid ? (memoryMb(p.processor.pid)?.hwm ?? NaN) : NaN;
  await p.processor.stop();
  await admin.disconnect();
  return {
    variant: v.label,
    drain: {
      seconds: round(secs, 1),
      msgPerS: round(last.committed / secs, 0),
      txPerS: round(total / secs, 0),
      processorCpuMsPerMsg: round((pc * 1000) / last.committed, 4),
      redisCpuMsPerMsg: round(((r1 - r0) * 1000) / last.committed, 4),
      processorPeakRssMb: round(hwm, 0),
    },
  };
}

/** --only overload: k6/overload.js at --rate for --seconds after a warm-up; 202s and 503s apart. */
async function overloadRound(
  svc: Services,
  k6: string,
  v: { dir: string; label: string },
  tag: string,
  bodiesFile: string,
): Promise<Sample> {
  const { admin, topics, p } = await pipelineRound(svc, v, `o${tag}`);
  try {
    await waitForLag0(admin, p.groupId, topics, 60_000);
    await k6Run(k6, 'k6/ingest.js', p.url, bodiesFile, 1000, 5);
    await waitForLag0(admin, p.groupId, topics, 120_000);
    const c0 = cpuOf(p.ingest.pid);
    const r = await k6Run(k6, 'k6/overload.js', p.url, bodiesFile, rate, seconds, 90);
    const c1 = cpuOf(p.ingest.pid);
    await waitForLag0(admin, p.groupId, topics, 180_000);
    return {
      variant: v.label,
      overload: {
        rate,
        accepted: r.counters.status_202 ?? 0,
        shed: r.counters.status_503 ?? 0,
        other: r.counters.status_other ?? 0,
        p99Accepted: round(r.byStatus['202']?.p99 ?? NaN, 1),
        p99Shed: round(r.byStatus['503']?.p99 ?? NaN, 1),
        ingestCpuMsPerReq: round(((c1 - c0) * 1000) / r.requests, 3),
      },
    };
  } finally {
    await Promise.all([p.ingest.stop(), p.processor.stop()]);
    await admin.disconnect();
  }
}

/** Redis bytes per retained transaction, by type (bench/lib/memory.ts), on a world of 5,000 accounts. */
async function memoryRound(svc: Services, v: { dir: string; label: string }, tag: string): Promise<Sample> {
  const { world, admin, p } = await pipelineRound(svc, v, `m${tag}`, memoryWorldSize);
  try {
    await waitForLag0(admin, p.groupId, p.topics, 120_000);
    const memory = await measureRedisBytes({
      redisUrl: svc.redisUrl,
      admin,
      pipeline: p,
      world,
      n: memoryN,
      settleMs: 120_000,
      say,
    });
    return { variant: v.label, memory };
  } finally {
    await Promise.all([p.ingest.stop(), p.processor.stop()]);
    await admin.disconnect();
  }
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

async function main() {
  const base = variantDir(baseRef);
  const workDirOpt = option('work');
  const work = { dir: workDirOpt ? path.resolve(workDirOpt) : repoRoot, label: 'working tree' };
  say(`base ${base.label} (${path.relative(repoRoot, base.dir) || '.'}) vs ${work.label}; ${rounds} rounds`);
  const k6 = (await ensureK6(say)).bin;
  const svc = await provideServices({ log: say });
  const samples: Sample[] = [];
  try {
    const bodiesFile = path.join(workDir, 'bodies.json');
    const ndjson = path.join(workDir, 'bodies.ndjson');
    // Round -1 warms Kafka's JIT (its C2 compiler outworks the broker for the first minute) and is discarded.
    for (let r = only === 'drain' || only === 'memory' ? 0 : -1; r < rounds; r++) {
      const order = r === -1 ? [base] : r % 2 === 0 ? [base, work] : [work, base];
      for (const v of order) {
        const tag = `${stamp.slice(11).replace(/\D/g, '')}r${r < 0 ? 'w' : r}${v === base ? 'a' : 'b'}`;
        // Each round's bodies name its own accounts (the prefix), so rounds do not share state.
        const w = makeWorld(`c${tag}`, worldSize);
        const b = mixBodies(w, 50_000);
        fs.writeFileSync(bodiesFile, JSON.stringify(b.map((x) => JSON.stringify(x))));
        fs.writeFileSync(ndjson, b.map((x) => JSON.stringify(x)).join('\n') + '\n');
        if (only === 'overload') {
          const s = await overloadRound(svc, k6, v, tag, bodiesFile);
          if (r >= 0) samples.push(s);
          say(`round ${r} ${v.label}: ${JSON.stringify(s.overload)}`);
          continue;
        }
        if (only === 'memory') {
          const s = await memoryRound(svc, v, tag);
          samples.push(s);
          continue;
        }
        if (only !== 'drain') {
          const s = await ingestRound(svc, k6, v, tag, bodiesFile, ndjson);
          if (r < 0) {
            say(`warm-up ${v.label} (discarded): ${JSON.stringify(s.fixed)}`);
            continue;
          }
          samples.push(s);
          say(`round ${r} ${v.label}: ${JSON.stringify({ fixed: s.fixed, wrk: s.wrk })}`);
        }
        if (only !== 'ingest' && only !== 'wrk') {
          const s = await drainRound(svc, v, tag);
          samples.push(s);
          say(`round ${r} ${v.label}: ${JSON.stringify(s.drain)}`);
        }
      }
    }
  } finally {
    await svc.stop();
  }
  const rows: Array<[string, (s: Sample) => number | undefined, boolean]> = [
    [`accept p50 ms at ${rate}/s`, (s) => s.fixed?.p50, false],
    [`accept p99 ms at ${rate}/s`, (s) => s.fixed?.p99, false],
    [`end to end p50 ms at ${rate}/s`, (s) => s.fixed?.e2eP50, false],
    [`end to end p99 ms at ${rate}/s`, (s) => s.fixed?.e2eP99, false],
    [`end to end p99 ms at ${rate}/s, single-entity types`, (s) => s.fixed?.e2eOtherP99, false],
    [`end to end p99 ms at ${rate}/s, transfers`, (s) => s.fixed?.e2eTransferP99, false],
    ['ingest-api CPU ms per request (fixed rate)', (s) => s.fixed?.ingestCpuMsPerReq, false],
    ['processor CPU ms per request (fixed rate)', (s) => s.fixed?.processorCpuMsPerReq, false],
    ['Kafka broker CPU ms per request (fixed rate)', (s) => s.fixed?.kafkaCpuMsPerReq, false],
    ['Redis CPU ms per request (fixed rate)', (s) => s.fixed?.redisCpuMsPerReq, false],
    ['k6 CPU ms per request (fixed rate)', (s) => s.fixed?.k6CpuMsPerReq, false],
    ['wrk closed-loop req/s', (s) => s.wrk?.rps, true],
    ['ingest-api CPU ms per request (wrk)', (s) => s.wrk?.ingestCpuMsPerReq, false],
    [`overload at ${rate}/s: answered 202`, (s) => s.overload?.accepted, true],
    [`overload at ${rate}/s: answered 503`, (s) => s.overload?.shed, false],
    [`overload at ${rate}/s: other answers`, (s) => s.overload?.other, false],
    [`overload at ${rate}/s: 202 p99 ms`, (s) => s.overload?.p99Accepted, false],
    [`overload at ${rate}/s: 503 p99 ms`, (s) => s.overload?.p99Shed, false],
    [`overload at ${rate}/s: ingest-api CPU ms per request`, (s) => s.overload?.ingestCpuMsPerReq, false],
    [`drain tx/s (${drainN} mix)`, (s) => s.drain?.txPerS, true],
    ['drain messages/s', (s) => s.drain?.msgPerS, true],
    ['processor CPU ms per message', (s) => s.drain?.processorCpuMsPerMsg, false],
    ['Redis CPU ms per message', (s) => s.drain?.redisCpuMsPerMsg, false],
    ['processor peak RSS MB in the drain', (s) => s.drain?.processorPeakRssMb, false],
    ...memoryTypes.map((type): (typeof rows)[number] => [
      `Redis bytes per ${type}`,
      (s) => s.memory?.find((m) => m.type === type)?.bytesPerTx,
      false,
    ]),
    ...memoryTypes.map((type): (typeof rows)[number] => [
      `keys per ${type}`,
      (s) => s.memory?.find((m) => m.type === type)?.keysPerTx,
      false,
    ]),
  ];
  const lines = [`| measure (median of ${rounds}) | ${base.label} | working tree | ratio |`, '|---|---|---|---|'];
  for (const [name, get, higherBetter] of rows) {
    const a = median(
      samples
        .filter((s) => s.variant === base.label)
        .map(get)
        .filter((x): x is number => x !== undefined),
    );
    const b = median(
      samples
        .filter((s) => s.variant === work.label)
        .map(get)
        .filter((x): x is number => x !== undefined),
    );
    if (!Number.isFinite(a) && !Number.isFinite(b)) continue;
    const ratio = b / a;
    lines.push(
      `| ${name} | ${a} | ${b} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×${higherBetter ? '' : ' (lower is better)'}` : '–'} |`,
    );
  }
  const table = lines.join('\n');
  fs.writeFileSync(
    path.join(workDir, 'compare.json'),
    JSON.stringify({ base: base.label, rate, seconds, drainN, rounds, samples }, null, 2),
  );
  fs.writeFileSync(path.join(workDir, 'compare.md'), table + '\n');
  console.log(`\n${table}\n\n(${path.relative(repoRoot, workDir)}/compare.{md,json})`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
