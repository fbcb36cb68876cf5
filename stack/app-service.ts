// One txpipe service (ingest-api or processor) as a child process of this one, with its output kept for
// error messages (or in a log file): the tests (test/harness.ts), the chaos run (ops/chaos/) and the
// benchmark (bench/lib/pipeline.ts) start, kill and restart them.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, serviceNodeArgs, sleep, spawnOwned, stopChild, tail } from './proc.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
export { sleep };

/** Polls until `fn` returns a value other than undefined/false, or fails with the last value seen. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await sleep(everyMs);
  }
}

export interface ServiceOptions {
  /** A command that runs node, e.g. `['faketime', '-f', '+120s']` for a process with a skewed clock. */
  wrapper?: string[];
  /** Node flags before the service's own, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** The checkout whose code runs (another version's, for side-by-side comparisons). */
  appDir?: string;
  /**
   * Where its output is appended (the benchmark's logs). Without it, its last 20 KB are kept in `output`
   * for error messages, and its stdout and stderr stay readable pipes.
   */
  logFile?: string;
}

/** One txpipe service as a child process: the tests, the chaos run and the benchmark start it this one way. */
export class Service {
  child?: ChildProcess;
  output = '';
  constructor(
    readonly name: 'ingest-api' | 'processor',
    readonly env: NodeJS.ProcessEnv,
    readonly readyUrl: string,
    readonly options: ServiceOptions = {},
  ) {}

  /** The running process's pid (undefined once it is gone). */
  get pid(): number | undefined {
    return this.child && !exited(this.child) ? this.child.pid : undefined;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const { wrapper = [], nodeArgs = [], appDir = root, logFile } = this.options;
    const [command, ...args] = [...wrapper, process.execPath, ...nodeArgs, ...serviceNodeArgs(this.name)];
    let stdio: StdioOptions = ['ignore', 'pipe', 'pipe'];
    if (logFile) {
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      const out = fs.openSync(logFile, 'a');
      stdio = ['ignore', out, out];
    }
    const child = spawnOwned(command!, args, { cwd: appDir, env: this.env, stdio });
    this.child = child;
    if (typeof stdio[1] === 'number') fs.closeSync(stdio[1]);
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const state = await waitFor(
      `${this.name} ready at ${this.readyUrl}`,
      async () => {
        if (exited(child)) return 'exited';
        const r = await fetch(this.readyUrl, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return r?.ok && 'ready';
      },
      timeoutMs,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; ${this.outputTail(500)}`, { cause: e });
    });
    if (state === 'exited') throw new Error(`${this.name} exited: ${this.outputTail(2000)}`);
  }

  /** The end of its output, or where to find it. */
  private outputTail(chars: number): string {
    const { logFile } = this.options;
    return logFile ? `see ${logFile}:\n${tail(logFile, 20)}` : `output: ${this.output.slice(-chars)}`;
  }

  /** SIGTERM (graceful, SIGKILL after 15 s) or SIGKILL (a crash); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || exited(c)) return;
    if (signal === 'SIGTERM') return stopChild(c, 15_000);
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  }
}
