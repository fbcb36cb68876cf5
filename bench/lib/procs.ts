// What the benchmark watches of the processes it runs: CPU and memory read from /proc.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (100 on every Linux we target). */
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak resident set) and VmRSS in MB from /proc/<pid>/status. */
export function memoryMb(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** The pid listening on 127.0.0.1:<port> (for the Kafka and Redis we did not spawn ourselves). */
export function pidListening(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has been busy (all cores; /proc/stat minus idle and iowait). */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  return (total - (line[3] ?? 0) - (line[4] ?? 0)) / HZ;
}

/**
 * CPU use of named processes over a window: `start()` then `stop()` gives each one's share of a core
 * (1.0 = one core busy the whole window), and the peak RSS seen while sampling.
 */
export class CpuWatch {
  private t0 = 0;
  private busy0 = 0;
  private cpu0 = new Map<string, number>();
  private peakRss = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  start(): void {
    this.t0 = performance.now();
    this.busy0 = machineBusySeconds();
    this.cpu0.clear();
    this.peakRss.clear();
    for (const [name, pid] of Object.entries(this.pids())) {
      const c = pid && cpuSeconds(pid);
      if (c !== undefined && c !== 0) this.cpu0.set(name, c);
    }
    this.timer = setInterval(() => this.sampleRss(), 1000);
  }

  private sampleRss() {
    for (const [name, pid] of Object.entries(this.pids())) {
      const m = pid ? memoryMb(pid) : undefined;
      if (m) this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, m.rss));
    }
  }

  /**
   * Cores used per process (rounded to 0.01), e.g. { 'ingest-api': 0.97, kafka: 0.41 }, plus `machine`
   * (all processes) and `other` (machine minus the named ones: anything else running, i.e. noise).
   */
  stop(): { cores: Record<string, number>; peakRssMb: Record<string, number> } {
    clearInterval(this.timer);
    this.sampleRss();
    const secs = (performance.now() - this.t0) / 1000;
    const cores: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const c = pid ? cpuSeconds(pid) : undefined;
      if (c === undefined || secs <= 0) continue;
      cores[name] = round((c - (this.cpu0.get(name) ?? 0)) / secs, 2);
    }
    if (secs > 0) {
      const machine = (machineBusySeconds() - this.busy0) / secs;
      const named = Object.values(cores).reduce((a, b) => a + b, 0);
      cores.machine = round(machine, 2);
      cores.other = round(Math.max(0, machine - named), 2);
    }
    const peakRssMb = Object.fromEntries([...this.peakRss].map(([k, v]) => [k, round(v, 0)]));
    return { cores, peakRssMb };
  }
}

export const round = (n: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
