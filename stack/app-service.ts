// One txpipe service (ingest-api or processor) as a child process of this one, with its output kept for
// error messages: the tests (test/harness.ts) and the chaos run (ops/chaos/) start, kill and restart them.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serviceNodeArgs } from './proc.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns a value other than undefined/false, or fails with the last value seen. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

export class Service {
  child?: ChildProcess;
  output = '';
  /** `wrapper`: a command that runs node, e.g. `['faketime', '-f', '+120s']` for a process with a skewed clock. */
  constructor(
    readonly name: 'ingest-api' | 'processor',
    readonly env: NodeJS.ProcessEnv,
    readonly readyUrl: string,
    readonly wrapper: string[] = [],
  ) {}

  async start(): Promise<void> {
    const [command, ...args] = [...this.wrapper, process.execPath, ...serviceNodeArgs(this.name)];
    this.child = spawn(command!, args, {
      cwd: root, env: this.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => { this.output = (this.output + b.toString()).slice(-20_000); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    const state = await waitFor(`${this.name} ready (log tail: ${this.output.slice(-500)})`, async () => {
      if (this.child!.exitCode !== null) return 'exited';
      const r = await fetch(this.readyUrl).catch(() => undefined);
      return r?.ok && 'ready';
    });
    if (state === 'exited') throw new Error(`${this.name} exited: ${this.output.slice(-2000)}`);
  }

  /** SIGTERM (graceful) or SIGKILL (crash); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  }
}

