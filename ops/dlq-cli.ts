// `npm run dlq -- list | show <offset> | replay [--from N --to N --partition P --type T] [--force]`, against
// the services' own environment (common/config.ts). Exit 0 on success, 1 when a replay is refused or
// nothing matched, 2 on a usage error.
import { parseArgs } from 'node:util';
import { loadConfig, topics } from '../common/config.ts';
import { createKafka } from '../common/kafka.ts';
import { limits } from '../common/limits.ts';
import { createRedis } from '../common/redis.ts';
import {
  deadLetters,
  replay,
  replays,
  ReplayRefused,
  type DeadLetter,
  type DlqContext,
  type Selection,
} from './dlq.ts';

const usage = `Usage: npm run dlq -- <command>

  list [--from N] [--to N] [--partition P] [--type T]   dead letters in <prefix>.dlq: address, reason, origin, type
  show <offset | partition:offset>                       one dead letter: headers, key and bytes
  replay [--from N] [--to N] [--partition P] [--type T] [--force] [--json]
                                                         re-publish to the original topic and key; refused for an
                                                         offset already replayed, unless --force

Addresses are <partition>:<offset> in the DLQ; --from/--to bound offsets in every partition (or --partition).
Replays are recorded in Redis (who: $USER@hostname, when, which offsets).
`;

/** A command line that cannot run: exit 2 with the usage. */
class UsageError extends Error {
  override name = 'UsageError';
}

const line = (d: DeadLetter, replayedBy?: string) =>
  `${d.address.padEnd(8)} ${(d.type ?? '?').padEnd(22)} from ${d.origin.topic}/${d.origin.partition}@${d.origin.offset}  ${d.reason}${replayedBy ? `  [replayed by ${replayedBy}]` : ''}`;

export async function runDlq(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      partition: { type: 'string' },
      type: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, address] = positionals;
  if (values.help || !command) {
    out(usage);
    return command ? 0 : 2;
  }
  const int = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw new UsageError(`${flag} needs a non-negative integer, got '${s}'`);
    return Number(s);
  };
  const selection: Selection = {
    from: int(values.from, '--from'),
    to: int(values.to, '--to'),
    partition: int(values.partition, '--partition'),
    type: values.type,
  };
  const config = loadConfig(env);
  // TXPIPE_REDIS_URL or TXPIPE_REDIS_CLUSTER, as the services connect.
  const redis = createRedis(config.redis, {
    name: 'txpipe-dlq',
    failFast: true,
    commandTimeoutMs: limits.processorRedisTimeoutMs,
    scripts: [],
  });
  await redis.connect();
  const c: DlqContext = {
    kafka: createKafka(config.kafkaBrokers, 'txpipe-dlq'),
    redis,
    topics: topics(config.topicPrefix),
  };
  try {
    switch (command) {
      case 'list': {
        const [letters, done] = await Promise.all([deadLetters(c, selection), replays(c)]);
        if (values.json)
          out(JSON.stringify(letters.map(({ value, headers, ...d }) => ({ ...d, replayed: done[d.address] ?? null }))));
        else {
          for (const d of letters) {
            const r = done[d.address];
            out(line(d, r && `${r.by}@${r.host} at ${r.at}${r.times > 1 ? ` (${r.times} times)` : ''}`));
          }
          out(`${letters.length} dead letters in ${c.topics.dlq}`);
        }
        return 0;
      }
      case 'show': {
        if (!address || !/^(\d+:)?\d+$/.test(address)) throw new UsageError('show needs an offset or partition:offset');
        const found = await deadLetters(c, { address });
        if (found.length !== 1) {
          out(
            found.length
              ? `offset ${address} is in several partitions: ${found.map((d) => d.address).join(', ')}; name one`
              : `no dead letter at ${address}`,
          );
          return 1;
        }
        const d = found[0]!;
        out(
          JSON.stringify(
            {
              address: d.address,
              reason: d.reason,
              origin: d.origin,
              key: d.key,
              type: d.type ?? null,
              headers: Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, v?.toString()])),
              value: d.value?.toString('utf8') ?? null,
              valueBase64: d.value?.toString('base64') ?? null,
            },
            null,
            2,
          ),
        );
        return 0;
      }
      case 'replay': {
        const letters = await deadLetters(c, selection);
        if (!letters.length) {
          out('no dead letter matches; nothing replayed');
          return 1;
        }
        try {
          const r = await replay(c, letters, { force: values.force });
          out(
            values.json
              ? JSON.stringify(r)
              : `replayed ${r.replayed.length} (${r.replayed.join(', ')}) by ${r.by}@${r.host} at ${r.at}`,
          );
          return 0;
        } catch (e) {
          if (!(e instanceof ReplayRefused)) throw e;
          out(e.message);
          return 1;
        }
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } finally {
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDlq(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      console.error(
        e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
          ? `${e.message}\n\n${usage}`
          : `dlq failed: ${e.message}`,
      );
      process.exit(2);
    },
  );
}
