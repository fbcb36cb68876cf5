import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { masked, parseStartArgs, UsageError } from './cli.ts';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseStartArgs(argv, env);

describe('npm start flags', () => {
  it('defaults, and the environment moves the launched ports', () => {
    expect(parse([])).toEqual({
      help: false,
      quiet: false,
      prometheus: false,
      kafkaPort: 9092,
      redisPort: 6379,
      cluster: false,
      ingests: 1,
      processors: 1,
    });
    expect(parse([], { TXPIPE_KAFKA_PORT: '19092', TXPIPE_REDIS_PORT: '16379' })).toMatchObject({
      kafkaPort: 19092,
      redisPort: 16379,
    });
  });

  it('flags, with the value after a space or an =, over the environment', () => {
    expect(
      parse(['--kafka-port', '29092', '--redis-port=26379', '--quiet', '--prometheus'], { TXPIPE_KAFKA_PORT: '19092' }),
    ).toEqual({
      help: false,
      quiet: true,
      prometheus: true,
      kafkaPort: 29092,
      redisPort: 26379,
      cluster: false,
      ingests: 1,
      processors: 1,
    });
    expect(parse(['-h']).help).toBe(true);
    expect(parse(['--help']).help).toBe(true);
  });

  it('--cluster: two of each service unless told, and ports for every node', () => {
    expect(parse(['--cluster'])).toMatchObject({ cluster: true, ingests: 2, processors: 2 });
    expect(parse(['--cluster', '--processors=3'])).toMatchObject({ cluster: true, ingests: 2, processors: 3 });
    expect(parse(['--processors', '2'])).toMatchObject({ cluster: false, ingests: 1, processors: 2 });
  });

  it.each([
    [['--clusters'], "unknown flag '--clusters'"],
    [['--processors', '0'], "--processors needs a number from 1 to 8, got '0'"],
    [['--cluster', '--kafka-port', '7000', '--redis-port', '7005'], "Redis ports 7005-7010 overlap Kafka's 7000-7005"],
    [['start'], "unknown argument 'start'"],
    [['--kafka-port'], '--kafka-port needs a port number, got nothing'],
    [['--redis-port', 'abc'], "--redis-port needs a port number, got 'abc'"],
    [['--redis-port', '70000'], '--redis-port 70000 is not a port (1-65535)'],
    [['--quiet=yes'], '--quiet takes no value'],
    [['--kafka-port', '7000', '--redis-port', '7001'], 'Redis port 7001 is taken by Kafka (7000, controller 7001)'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parse(argv)).toThrow(new UsageError(message));
  });

  it('a bad port in the environment is refused too', () => {
    expect(() => parse([], { TXPIPE_REDIS_PORT: 'x' })).toThrow(UsageError);
  });
});

describe('masked', () => {
  it('hides a URL password, leaves the rest', () => {
    expect(masked('redis://:s3cret@10.0.0.5:6380/2')).toBe('redis://:***@10.0.0.5:6380/2');
    expect(masked('rediss://app:s3cret@cache.internal:6379')).toBe('rediss://app:***@cache.internal:6379');
    expect(masked('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(masked('not a url')).toBe('not a url');
  });
});

describe('the launcher', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  /** Runs `npm start` with these flags (own Kafka and Redis addresses, so nothing is launched whatever happens). */
  async function start(args: string[]) {
    const env = {
      ...process.env,
      TXPIPE_KAFKA_BROKERS: '127.0.0.1:1',
      TXPIPE_REDIS_URL: 'redis://127.0.0.1:1',
      TXPIPE_INGEST_PORT: String(await freePort()),
      TXPIPE_PROCESSOR_PORT: String(await freePort()),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'stack/start.ts', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 8000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(timer);
    return { code, out };
  }

  it('--help prints the usage and exits 0, starting nothing', async () => {
    const r = await start(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm start/);
    expect(r.out).not.toContain('[stack] Kafka');
  }, 15_000);

  it('an unknown flag exits 2 with the reason, starting nothing', async () => {
    const r = await start(['--clutser']);
    expect(r.code).toBe(2);
    expect(r.out).toContain("unknown flag '--clutser'");
    expect(r.out).toContain('Usage: npm start');
  }, 15_000);
});
