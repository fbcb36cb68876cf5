// Child-process helpers shared by the Kafka, Redis and app launchers.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

// setpriv asks the kernel to SIGTERM the child when we die, even by SIGKILL (no orphaned brokers).
const hasSetpriv = process.platform === 'linux' && spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;

/**
 * Spawns a long-running server that must not outlive this process.
 * With setpriv the child also gets its own process group, so a terminal Ctrl-C reaches only us and
 * we stop the children in order; without it, it stays in our group so it can't be orphaned.
 */
export function spawnOwned(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const [c, a] = hasSetpriv ? ['setpriv', ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(c, a, { ...opts, detached: hasSetpriv });
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
    });
  }
  return child;
}

/** True when `cmd` can be executed (found on PATH). */
export function commandExists(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !(r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT');
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Last `lines` lines of a log file ('' when unreadable). */
export function tail(file: string, lines = 30): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  }
}

/** Pipes a child's stdout and stderr into a file (appending). Resolves the stream for closing. */
export function logTo(child: ChildProcess, file: string): fs.WriteStream {
  const out = fs.createWriteStream(file, { flags: 'a' });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  child.once('close', () => out.end());
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ReadyWait {
  /** The server as messages name it, e.g. "redis-server on port 6379". */
  what: string;
  logFile: string;
  timeoutMs: number;
  /** One probe: true once the server answers. */
  probe: () => Promise<boolean>;
  stop: () => Promise<void>;
}

/**
 * Polls `probe` until the freshly spawned child answers; call it right after spawning. If the child could
 * not be spawned, exits, or the time runs out: stops it and throws with the tail of its log.
 */
export async function waitChildReady(child: ChildProcess, w: ReadyWait): Promise<void> {
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + w.timeoutMs;
  for (;;) {
    const problem = spawnError
      ? `could not run ${w.what}: ${spawnError.message}`
      : exited(child)
        ? `${w.what} exited (code ${child.exitCode ?? child.signalCode}) while starting`
        : Date.now() > deadline
          ? `${w.what} not ready within ${w.timeoutMs / 1000} s`
          : null;
    if (problem) {
      await w.stop();
      throw new Error(`${problem}\n--- tail of ${w.logFile} ---\n${tail(w.logFile, 20)}`);
    }
    if (await w.probe()) return;
    await sleep(100);
  }
}

/**
 * How node runs a txpipe service (`node <these>`), the same everywhere: npm start, tests, benchmarks.
 * --max-semi-space-size=32 (MB; V8's default is 16): both services allocate short-lived objects per message
 * (~48 KB per ingest request), and a larger young generation is scavenged less often, which cuts both
 * services' CPU per request (BENCHMARKS.md); 32 MB is the compromise with memory.
 */
export const serviceNodeArgs = (name: string): string[] => [
  '--max-semi-space-size=32',
  '--import',
  'tsx',
  path.join(name, 'main.ts'),
];
