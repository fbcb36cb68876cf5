// A redis-server child with AOF on, for the local stack and tests.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { commandExists, logTo, spawnOwned, stopChild, waitChildReady } from './proc.ts';
import { freePort } from './ports.ts';

export interface RedisServer {
  url: string;
  /** The directory holding its AOF (appendonlydir/). */
  dir: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, with no chance to flush anything. */
  kill(): Promise<void>;
}

export const redisMissing =
  'redis-server not found: install it with `apt-get install redis-server` (Debian/Ubuntu) or set TXPIPE_REDIS_URL';

/** One PING over a raw socket: no client library, no reconnect noise. */
export function ping(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => (sock.destroy(), resolve(ok));
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (b) => done(b.toString().startsWith('+PONG')));
  });
}

export interface StartRedisOptions {
  dir: string;
  port?: number;
  logFile?: string;
  /** Called if redis-server exits on its own after it was ready (not after stop()). */
  onExit?: (code: number | string | null) => void;
  /** More redis-server arguments (tests: another eviction policy, say). */
  args?: string[];
}

export async function startRedis(opts: StartRedisOptions): Promise<RedisServer> {
  if (!commandExists('redis-server')) throw new Error(redisMissing);
  const port = opts.port ?? (await freePort());
  const dir = path.resolve(opts.dir);
  const logFile = path.resolve(opts.logFile ?? path.join(dir, 'redis.log'));
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  // --save '' turns RDB snapshots off: the AOF is the durability story (design: AOF, everysec).
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    // A history entry is over 64 bytes: at 128 a quiet entity's history stays a compact listpack (README, sizing).
    '--zset-max-listpack-value',
    '128',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    ...(opts.args ?? []),
  ];
  const child = spawnOwned('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  logTo(child, logFile);
  const stop = () => stopChild(child, 10_000);
  await waitChildReady(child, {
    what: `redis-server on port ${port}`,
    logFile,
    timeoutMs: 20_000,
    probe: () => ping('127.0.0.1', port),
    stop,
  });
  let stopping = false;
  child.once('exit', (code, sig) => {
    if (!stopping) opts.onExit?.(code ?? sig);
  });
  const kill = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop: async () => {
      stopping = true;
      await stop();
    },
    kill,
  };
}

/** A copy of the server's AOF as it is now (written every event loop turn, so a prefix of what follows). */
export function copyAof(server: RedisServer, name: string): string {
  const copy = path.join(server.dir, name);
  fs.cpSync(path.join(server.dir, 'appendonlydir'), copy, { recursive: true });
  return copy;
}

/** SIGKILLs the server and puts an older AOF copy in place of its AOF: every write since the copy is lost. */
export async function rollBackAof(server: RedisServer, copy: string): Promise<void> {
  await server.kill();
  fs.rmSync(path.join(server.dir, 'appendonlydir'), { recursive: true, force: true });
  fs.cpSync(copy, path.join(server.dir, 'appendonlydir'), { recursive: true });
}
