// k6: found on PATH, in ~/go/bin or .cache/bin, else built from source with `go install` into .cache/bin.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../stack/kafka-jars.ts';
import { commandExists } from '../../stack/proc.ts';
import { cpuSeconds } from './procs.ts';

/** The k6 version built when none is installed (a v1.x: the scripts use the v1 JavaScript API). */
export const k6Module = 'go.k6.io/k6@v1.8.1';
const cacheBin = path.join(repoRoot, '.cache', 'bin');

function works(bin: string): string | undefined {
  const r = spawnSync(bin, ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Path to a k6 binary and its version; builds one (a few minutes, once) when there is none. */
export async function ensureK6(log: (s: string) => void): Promise<{ bin: string; version: string }> {
  const candidates = [process.env.K6_BIN, 'k6', path.join(os.homedir(), 'go', 'bin', 'k6'), path.join(cacheBin, 'k6')];
  for (const c of candidates) {
    if (!c) continue;
    const v = works(c);
    if (v) return { bin: c, version: v };
  }
  if (!commandExists('go', ['version'])) {
    throw new Error(
      'k6 not found and no Go toolchain to build it: install Go 1.23+ (https://go.dev/dl) or k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/)',
    );
  }
  log(
    `k6 not found: building ${k6Module} with go install into ${path.relative(repoRoot, cacheBin)} (first run only, a few minutes)`,
  );
  fs.mkdirSync(cacheBin, { recursive: true });
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const go = spawn('go', ['install', k6Module], {
      env: { ...process.env, GOBIN: cacheBin },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    go.once('error', reject);
    go.once('close', resolve);
  });
  const bin = path.join(cacheBin, 'k6');
  const v = code === 0 ? works(bin) : undefined;
  if (!v) throw new Error(`go install ${k6Module} failed (exit ${code})`);
  log(`k6 built in ${Math.round((Date.now() - t0) / 1000)} s: ${v}`);
  return { bin, version: v };
}

/** The part of k6's end-of-test summary the benchmark reads. */
export interface K6Result {
  /** k6's exit code: 0, or 99 when a threshold was crossed. */
  exitCode: number | null;
  requests: number;
  /** Requests per second over the run. */
  rps: number;
  failedRate: number;
  failed: number;
  droppedIterations: number;
  /** Latency in ms of all requests. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Per-status latency (status -> { count?, p50, p99 }) for the sub-metrics the script declares. */
  byStatus: Record<string, { p50: number; p99: number; count?: number }>;
  /** Custom counters the script adds (accepted transactions in batch mode, statuses...). */
  counters: Record<string, number>;
  /** Cores k6 itself used (1.0 = one full core). */
  k6Cores: number;
  durationS: number;
}

/** k6's --summary-export JSON: each metric's figures at the top level (count/rate, med/p(99), passes/value...). */
interface Summary {
  metrics: Record<string, Record<string, number>>;
}

/** Runs a k6 script with the given environment; bounded by `timeoutMs` (then killed). */
export async function runK6(
  k6: string,
  script: string,
  env: Record<string, string | number>,
  opts: { timeoutMs: number; logFile: string },
): Promise<K6Result> {
  const summaryFile = path.join(os.tmpdir(), `txpipe-k6-${process.pid}-${Date.now()}.json`);
  // GOGC=1000: k6's Go garbage collector ran on every few thousand requests' metric samples; collecting
  // 10x less often leaves more of the CPU the measured services share, and less noise in k6's own p99.
  // k6's heap stays well under 1 GB.
  const fullEnv = {
    ...process.env,
    GOGC: '1000',
    ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    K6_NO_USAGE_REPORT: 'true',
  };
  const out = fs.openSync(opts.logFile, 'a');
  fs.writeSync(out, `\n==== k6 run ${path.basename(script)} ${JSON.stringify(env)}\n`);
  const child = spawn(
    k6,
    [
      'run',
      '--quiet',
      '--no-color',
      '--summary-trend-stats',
      'avg,min,med,p(90),p(95),p(99),max',
      '--system-tags',
      'status,expected_response',
      '--summary-export',
      summaryFile,
      path.join(repoRoot, script),
    ],
    { env: fullEnv, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const t0 = performance.now();
  let cpu = 0;
  // k6's CPU time, read while it runs (its /proc entry is gone once it exits).
  const sampler = setInterval(() => {
    cpu = (child.pid && cpuSeconds(child.pid)) || cpu;
  }, 250);
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  clearInterval(sampler);
  clearTimeout(killer);
  const wall = (performance.now() - t0) / 1000;
  let summary: Summary;
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as Summary;
    fs.rmSync(summaryFile, { force: true });
  } catch {
    throw new Error(`k6 ${script} wrote no summary (exit ${exitCode}); see ${opts.logFile}`);
  }
  const m = summary.metrics;
  const v = (name: string, key: string) => m[name]?.[key] ?? 0;
  const byStatus: K6Result['byStatus'] = {};
  const counters: Record<string, number> = {};
  for (const [name, metric] of Object.entries(m)) {
    const s = /^http_req_duration\{status:(\d+)\}$/.exec(name);
    if (s) byStatus[s[1]!] = { p50: metric.med ?? NaN, p99: metric['p(99)'] ?? NaN };
    const isCounter = 'count' in metric && !('med' in metric);
    if (
      isCounter &&
      !name.startsWith('http_') &&
      !['iterations', 'data_sent', 'data_received', 'dropped_iterations'].includes(name)
    ) {
      counters[name] = metric.count ?? 0;
    }
  }
  // The scripts count responses by status in counters named status_<code>.
  for (const [name, count] of Object.entries(counters)) {
    const s = /^status_(\d+)$/.exec(name);
    if (s) (byStatus[s[1]!] ??= { p50: NaN, p99: NaN }).count = count;
  }
  const reqs = v('http_reqs', 'count');
  const durationS = reqs && v('http_reqs', 'rate') ? reqs / v('http_reqs', 'rate') : wall;
  return {
    exitCode,
    requests: v('http_reqs', 'count'),
    rps: v('http_reqs', 'rate'),
    failedRate: v('http_req_failed', 'value'),
    failed: v('http_req_failed', 'passes'),
    droppedIterations: v('dropped_iterations', 'count'),
    p50: v('http_req_duration', 'med'),
    p95: v('http_req_duration', 'p(95)'),
    p99: v('http_req_duration', 'p(99)'),
    max: v('http_req_duration', 'max'),
    byStatus,
    counters,
    k6Cores: wall > 0 ? Math.round((cpu / wall) * 100) / 100 : 0,
    durationS,
  };
}
