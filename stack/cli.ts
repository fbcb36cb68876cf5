// `npm start`'s command line: its flags, its usage text, and how it shows an address that holds a secret.
import { loadConfig } from '../common/config.ts';

export interface StartOptions {
  help: boolean;
  quiet: boolean;
  prometheus: boolean;
  /** The launched Kafka's broker port; its controller listens on the next one. */
  kafkaPort: number;
  redisPort: number;
  /** Three Kafka nodes, a Redis Cluster of three masters and three replicas, several services. */
  cluster: boolean;
  /** How many of each service: 2 on a cluster, else 1. */
  ingests: number;
  processors: number;
}

/** On a cluster: ports each part takes from its first (Kafka: a broker and a controller per node). */
export const clusterPorts = { kafka: 6, redis: 6 } as const;

/** A command line the launcher cannot run: it exits 2 with the message and the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage: npm start [-- <flags>]

Runs the pipeline on the local stack: Kafka and Redis (unless TXPIPE_KAFKA_BROKERS / TXPIPE_REDIS_URL or
TXPIPE_REDIS_CLUSTER name your own), then ingest-api and processor. Ctrl-C stops everything.

Flags:
  --kafka-port <port>  the launched Kafka's port, its controller on the next one (env TXPIPE_KAFKA_PORT; 9092)
  --redis-port <port>  the launched Redis's port (env TXPIPE_REDIS_PORT; 6379)
  --cluster            3 KRaft nodes (ports from --kafka-port: 6), topics replicated 3 with min.insync.replicas 2,
                       a Redis Cluster of 3 masters + 3 replicas (ports from --redis-port: 6, their buses 10000 above), 2 ingest-apis and
                       2 processors (ports from TXPIPE_INGEST_PORT and TXPIPE_PROCESSOR_PORT, one after another)
  --ingests <n>        how many ingest-apis (1-8; default 2 with --cluster, else 1)
  --processors <n>     how many processors in the consumer group (1-8; default 2 with --cluster, else 1)
  --prometheus         also run the system Prometheus on 127.0.0.1:9090, scraping both services
  --quiet              logs to .stack/logs only, not to the terminal
  -h, --help           print this and exit

Two stacks side by side: give the second other ports (and TXPIPE_INGEST_PORT, TXPIPE_PROCESSOR_PORT);
a stack on other Kafka or Redis ports keeps its data and logs in .stack/<kafka port>-<redis port>/, a cluster
in .stack/cluster-<kafka port>-<redis port>/.
`;

function count(value: string | undefined, flag: string): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 8) {
    throw new UsageError(`${flag} needs a number from 1 to 8, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return Number(value);
}

function port(value: string | undefined, flag: string): number {
  if (value === undefined || !/^\d+$/.test(value))
    throw new UsageError(`${flag} needs a port number, got ${value === undefined ? 'nothing' : `'${value}'`}`);
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
  const o: StartOptions = {
    help: false,
    quiet: false,
    prometheus: false,
    ...stack,
    cluster: false,
    ingests: 0,
    processors: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '-h':
      case '--help':
        o.help = true;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      case '--prometheus':
        o.prometheus = true;
        break;
      case '--cluster':
        o.cluster = true;
        break;
      case '--ingests':
        o.ingests = count(value(), flag);
        break;
      case '--processors':
        o.processors = count(value(), flag);
        break;
      case '--kafka-port':
        o.kafkaPort = port(value(), flag);
        break;
      case '--redis-port':
        o.redisPort = port(value(), flag);
        break;
      default:
        throw new UsageError(`unknown ${flag.startsWith('-') ? 'flag' : 'argument'} '${argv[i]}'`);
    }
    if (inline !== undefined && !['--kafka-port', '--redis-port', '--ingests', '--processors'].includes(flag))
      throw new UsageError(`${flag} takes no value`);
  }
  o.ingests ||= o.cluster ? 2 : 1;
  o.processors ||= o.cluster ? 2 : 1;
  const kafkaPorts = o.cluster ? clusterPorts.kafka : 2;
  const redisPorts = o.cluster ? clusterPorts.redis : 1;
  if (o.kafkaPort + kafkaPorts - 1 > 65535)
    throw new UsageError(`the Kafka port must leave room for the ${kafkaPorts - 1} ports after it`);
  if (o.redisPort + redisPorts - 1 > 65535)
    throw new UsageError(`the Redis port must leave room for the ${redisPorts - 1} ports after it`);
  if (o.redisPort < o.kafkaPort + kafkaPorts && o.kafkaPort < o.redisPort + redisPorts) {
    throw new UsageError(
      o.cluster
        ? `Redis ports ${o.redisPort}-${o.redisPort + redisPorts - 1} overlap Kafka's ${o.kafkaPort}-${o.kafkaPort + kafkaPorts - 1}`
        : `Redis port ${o.redisPort} is taken by Kafka (${o.kafkaPort}, controller ${o.kafkaPort + 1})`,
    );
  }
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
