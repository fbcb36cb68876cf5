// `npm start`'s command line: its flags, its usage text, and how it shows an address that holds a secret.
import { loadConfig } from '../common/config.ts';

export interface StartOptions {
  help: boolean;
  quiet: boolean;
  prometheus: boolean;
  /** The launched Kafka's broker port; its controller listens on the next one. */
  kafkaPort: number;
  redisPort: number;
}

/** A command line the launcher cannot run: it exits 2 with the message and the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage: npm start [-- <flags>]

Runs the pipeline on the local stack: Kafka and Redis (unless TXPIPE_KAFKA_BROKERS / TXPIPE_REDIS_URL name
your own), then ingest-api and processor. Ctrl-C stops everything.

Flags:
  --kafka-port <port>  the launched Kafka's port, its controller on the next one (env TXPIPE_KAFKA_PORT; 9092)
  --redis-port <port>  the launched Redis's port (env TXPIPE_REDIS_PORT; 6379)
  --prometheus         also run the system Prometheus on 127.0.0.1:9090, scraping both services
  --quiet              logs to .stack/logs only, not to the terminal
  -h, --help           print this and exit

Two stacks side by side: give the second other ports (and TXPIPE_INGEST_PORT, TXPIPE_PROCESSOR_PORT);
a stack on other Kafka or Redis ports keeps its data and logs in .stack/<kafka port>-<redis port>/.
`;

function port(value: string | undefined, flag: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${flag} needs a port number, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  const n = Number(value);
  if (n < 1 || n > 65535) throw new UsageError(`${flag} ${value} is not a port (1-65535)`);
  return n;
}

/** The flags of `argv` (after the script), over the ports of the environment. */
export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): StartOptions {
  let stack: { kafkaPort: number; redisPort: number };
  try {
    stack = loadConfig(env).stack;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const o: StartOptions = { help: false, quiet: false, prometheus: false, ...stack };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '-h': case '--help': o.help = true; break;
      case '--quiet': o.quiet = true; break;
      case '--prometheus': o.prometheus = true; break;
      case '--kafka-port': o.kafkaPort = port(value(), flag); break;
      case '--redis-port': o.redisPort = port(value(), flag); break;
      default: throw new UsageError(`unknown ${flag.startsWith('-') ? 'flag' : 'argument'} '${argv[i]}'`);
    }
    if (inline !== undefined && !flag.endsWith('-port')) throw new UsageError(`${flag} takes no value`);
  }
  if (o.kafkaPort === 65535) throw new UsageError('the Kafka port must leave room for its controller on the next one');
  if (o.redisPort === o.kafkaPort || o.redisPort === o.kafkaPort + 1) throw new UsageError(`Redis port ${o.redisPort} is taken by Kafka (${o.kafkaPort}, controller ${o.kafkaPort + 1})`);
  return o;
}

/** An address as the launcher prints it: a password in a URL (redis://:secret@host) shows as ***. */
export function masked(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url;
  }
}
