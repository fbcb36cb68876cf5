// `npm run verify [-- --log] [--json]`: the invariants on the live Redis, from the services' own
// environment (common/config.ts). Exit 0 when every check holds, 1 on a violation, 2 on a usage error.
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { loadConfig, topics } from '../common/config.ts';
import { createKafka } from '../common/kafka.ts';
import { limits } from '../common/limits.ts';
import { createRedis, masters } from '../common/redis.ts';
import { checks, verify, type VerifyReport } from './verify.ts';
import { verifyLog } from './verify-log.ts';

const usage = `Usage: npm run verify [-- --log] [--json]

Scans Redis (TXPIPE_REDIS_URL, or each master of TXPIPE_REDIS_CLUSTER) and checks every invariant (the domain
topics' partition count is read from Kafka, TXPIPE_KAFKA_BROKERS); --log also reads <TXPIPE_TOPIC_PREFIX>.results from
Kafka (TXPIPE_KAFKA_BROKERS) and checks each outcome is in Redis. --json prints the report as JSON.
Exit code 0: all checks hold; 1: violations (each with its entity and numbers); 2: usage error.

Checks:
${Object.entries(checks)
  .map(([name, what]) => `  ${name.padEnd(18)} ${what}`)
  .join('\n')}
`;

export interface VerifyRunOptions {
  log: boolean;
  env?: NodeJS.ProcessEnv;
  progress?: (line: string) => void;
}

/** verify (and with `log`, verify --log) against the services' configuration. */
export async function runVerify(o: VerifyRunOptions): Promise<VerifyReport> {
  const config = loadConfig(o.env);
  const t = topics(config.topicPrefix);
  const redis = createRedis(config.redis, {
    name: 'txpipe-verify',
    failFast: true,
    commandTimeoutMs: limits.processorRedisTimeoutMs,
    scripts: [],
  });
  const kafka = createKafka(config.kafkaBrokers, 'txpipe-verify');
  try {
    await redis.connect();
    const report = await verify({
      nodes: masters(redis).map((m) => m.node),
      lookup: redis,
      topics: t,
      progress: o.progress,
      partitions: await partitionsOf(kafka, t.wallet),
    });
    if (o.log) {
      const log = await verifyLog({
        kafka,
        lookup: redis,
        topics: t,
        retentionMs: config.retention.idempotencyWindowMs,
        progress: o.progress,
      });
      report.counted.outcomes = log.outcomes;
      report.violations.push(...log.violations);
      report.ok = report.violations.length === 0;
    }
    return report;
  } finally {
    redis.disconnect();
  }
}

/** How many partitions the domain topics have (they are created alike): which index holds a hold. */
async function partitionsOf(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

export function formatReport(r: VerifyReport): string {
  const c = r.counted;
  const lines = [
    `verify: ${r.keysScanned} keys, ${c.accounts} accounts, ${c.skus} skus, ${c.events} events, ${c.holds} holds, ` +
      `${c.transfersInFlight} transfers in flight${c.outcomes === undefined ? '' : `, ${c.outcomes} outcomes in the log`}`,
    ...r.violations.map(
      (v) => `VIOLATION ${v.check} ${v.entity}: ${v.message}${v.numbers ? ` ${JSON.stringify(v.numbers)}` : ''}`,
    ),
    ...r.warnings.map((v) => `warning ${v.check} ${v.entity}: ${v.message}`),
    r.ok ? 'verify: every invariant holds' : `verify: ${r.violations.length} violations`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  let values: { log?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { log: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const report = await runVerify({ log: !!values.log, progress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    console.error(`verify failed: ${e.message}`);
    process.exit(2);
  });
}
