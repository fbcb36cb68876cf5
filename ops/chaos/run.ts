// `npm run chaos -- --seed N --duration 60s`: a mixed load against a pipeline of its own on the local
// stack while the seed's schedule kills, rolls back and slows its parts; then it heals everything, waits
// for the lag to reach 0 and every accepted id's outcome, runs verify --log and checks the client-side
// history. Prints the seed, the schedule and the verdict; exit 1 on any failure, 2 on a usage error.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { domains } from '../../common/domains.ts';
import { createKafka } from '../../common/kafka.ts';
import { committedToEnd } from '../committed.ts';
import { sleep, waitFor } from '../../stack/app-service.ts';
import { formatReport, runVerify } from '../verify-cli.ts';
import { checkHistory, type HistoryVerdict } from './check.ts';
import { History, makeWorld, runLoad, send, setupWaves } from './load.ts';
import { startChaosPipeline, type ChaosPipeline } from './pipeline.ts';
import { describeFault, makeSchedule, type Fault } from './schedule.ts';
import { expiringKey, statusKey } from '../../common/keys.ts';
import { readStatusFields, statusFields } from '../../common/status.ts';

const usage = `Usage: npm run chaos -- [--seed N] [--duration 60s] [--workers 4] [--max-requests 20000]

--seed       the schedule's seed (default: a random one, printed); the same seed gives the same schedule
--duration   how long the load and the faults run (s, m or ms; default 60s, at most 10m)
`;

function duration(s: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(s);
  if (!m) throw new Error(`--duration: '${s}' is not a duration like 45s, 3m or 500ms`);
  const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] ?? 1000);
  if (ms < 10_000 || ms > 600_000) throw new Error('--duration must be between 10s and 10m');
  return ms;
}

const say = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  let seed: number, durationMs: number, workers: number, maxRequests: number;
  try {
    const { values } = parseArgs({
      options: {
        seed: { type: 'string' },
        duration: { type: 'string' },
        workers: { type: 'string' },
        'max-requests': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      say(usage);
      return 0;
    }
    seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error(`--seed: '${values.seed}' is not a non-negative integer`);
    durationMs = duration(values.duration ?? '60s');
    workers = Number(values.workers ?? 4);
    maxRequests = Number(values['max-requests'] ?? 20_000);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage}`);
    return 2;
  }

  const schedule = makeSchedule(seed, durationMs);
  say(
    `chaos: seed ${seed}, duration ${durationMs / 1000} s, ${schedule.length} faults (replay: npm run chaos -- --seed ${seed} --duration ${durationMs / 1000}s)`,
  );
  for (const f of schedule) say(`  ${describeFault(f)}`);

  const p = await startChaosPipeline(seed, (s) => process.stderr.write(`[stack] ${s}\n`));
  const redis = new Redis(p.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const kafka = createKafka(p.kafkaBrokers, 'txpipe-chaos');
  const history = new History();
  const problems: string[] = [];
  try {
    const world = makeWorld(p.prefix);
    const client = { ingestUrl: () => p.ingest.readyUrl.replace('/readyz', ''), history, until: Date.now() + 60_000 };
    for (const wave of setupWaves(world)) {
      const ids = wave.map((_, i) => `${p.prefix}-setup-${history.entries.size + i}`);
      await Promise.all(wave.map((b, i) => send(client, ids[i]!, b)));
      await waitOutcomes(redis, ids, 60_000);
    }

    const t0 = Date.now();
    const until = t0 + durationMs;
    let faultsDone = false;
    const faultsRun = runSchedule(p, schedule, t0, problems).finally(() => {
      faultsDone = true;
    });
    await runLoad({ ...client, until, busy: () => !faultsDone, seed, run: p.prefix, workers, maxRequests }, world);
    await faultsRun;
    say(
      `chaos: load done after ${((Date.now() - t0) / 1000).toFixed(0)} s, ${history.entries.size} ids; healing and draining`,
    );
    await p.healAll();

    const accepted = history.accepted().map((e) => e.id);
    await waitOutcomes(redis, accepted, 180_000).catch((e: Error) => problems.push(e.message));
    // At rest before verify: its counts are read at different instants, so every hold (ttls of seconds)
    // must have been expired or settled, and the expire commands applied.
    await waitFor(
      "every hold settled (the sweeper's index empty)",
      async () =>
        (
          await Promise.all(
            domains
              .map((d) => p.topics[d])
              .flatMap((t) => [...Array(p.partitions).keys()].map((n) => redis.zcard(expiringKey(t, n)))),
          )
        ).every((n) => n === 0),
      120_000,
      500,
    ).catch((e: Error) => problems.push(e.message));
    await waitLagZero(p, kafka).catch((e: Error) => problems.push(e.message));

    const env = {
      TXPIPE_REDIS_URL: p.redisUrl,
      TXPIPE_TOPIC_PREFIX: p.prefix,
      TXPIPE_KAFKA_BROKERS: p.kafkaBrokers.join(','),
    };
    const report = await runVerify({ log: true, env, progress: (s) => process.stderr.write(`${s}\n`) });
    say(formatReport(report));
    const v = await checkHistory(history, redis, kafka, p.topics);
    say(verdictLines(seed, durationMs, schedule, v, report.violations.length, problems).join('\n'));
    const ok =
      report.ok &&
      !report.warnings.length &&
      !v.lost.length &&
      !v.doubled.length &&
      !v.refusedButPresent.length &&
      !v.effects.length &&
      !v.expiredEarly.length &&
      !problems.length;
    say(`chaos: seed ${seed}: ${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    redis.disconnect();
    await p.stop();
  }
}

/** Injects each fault at its time and heals it after its hold; a fault that fails to heal is a problem. */
async function runSchedule(p: ChaosPipeline, schedule: Fault[], t0: number, problems: string[]): Promise<void> {
  for (const f of schedule) {
    if (f.kind === 'rollback-redis') {
      await sleep(Math.max(0, t0 + f.at - f.param - Date.now()));
      p.snapshot(f.at);
    }
    await sleep(Math.max(0, t0 + f.at - Date.now()));
    try {
      const heal = await p.inject(f);
      await sleep(f.holdMs);
      await heal();
    } catch (e) {
      problems.push(`${f.kind} at ${f.at} ms: ${(e as Error).message.slice(0, 300)}`);
      await p.healAll().catch((e2: Error) => problems.push(`heal after ${f.kind}: ${e2.message.slice(0, 300)}`));
    }
    process.stderr.write(`[chaos] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${f.kind} healed\n`);
  }
}

async function waitOutcomes(redis: Redis, ids: string[], timeoutMs: number): Promise<void> {
  let missing = ids;
  await waitFor(
    `the outcome of every accepted id (${ids.length})`,
    async () => {
      const records = await Promise.all(missing.map((id) => redis.hmget(statusKey(id), ...statusFields)));
      missing = missing.filter((_, i) => !readStatusFields(records[i]!)?.outcome);
      return missing.length === 0 || undefined;
    },
    timeoutMs,
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; ${missing.length} still without one, e.g. ${missing.slice(0, 5).join(', ')}`);
  });
}

/** Until the group has committed every domain topic to its end (expire commands included). */
async function waitLagZero(p: ChaosPipeline, kafka: ReturnType<typeof createKafka>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const domainTopics = domains.map((d) => p.topics[d]);
  try {
    await waitFor('consumer lag 0', () => committedToEnd(admin, `${p.prefix}-processor`, domainTopics), 120_000, 500);
  } finally {
    await admin.disconnect();
  }
}

function verdictLines(
  seed: number,
  durationMs: number,
  schedule: Fault[],
  v: HistoryVerdict,
  violations: number,
  problems: string[],
): string[] {
  const kinds = [...new Set(schedule.map((f) => f.kind))].join(', ');
  return [
    `chaos: ${v.accepted} accepted (${v.acceptedAfter503} after a 503 and a retry), ${v.applied} applied, ${v.rejected} rejected, ${v.refused} refused 4xx`,
    `chaos: lost ${v.lost.length}, doubled ${v.doubled.length}, refused but present ${v.refusedButPresent.length}, effects off ${v.effects.length}, expired early ${v.expiredEarly.length}, invariant violations ${violations}`,
    ...v.lost.slice(0, 10).map((id) => `  LOST ${id}`),
    ...v.doubled.slice(0, 10).map((id) => `  DOUBLED ${id}`),
    ...v.refusedButPresent.slice(0, 10).map((id) => `  REFUSED BUT PRESENT ${id}`),
    ...v.effects.slice(0, 10).map((s) => `  EFFECT ${s}`),
    ...v.expiredEarly.slice(0, 10).map((s) => `  EXPIRED EARLY ${s}`),
    ...problems.map((s) => `  PROBLEM ${s}`),
    `| ${seed} | ${durationMs / 1000} s | ${schedule.length} (${kinds}) | ${v.accepted} | ${v.applied} | ${v.lost.length} | ${v.doubled.length} | ${violations} |`,
  ];
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`chaos failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
