// The chaos run's fault schedule: a pure function of the seed and the duration, so a failing run is
// replayed by its seed. One fault at a time, each healed before the next starts, none in the last stretch
// (the pipeline must be whole when the run checks it).
import { Prng } from './prng.ts';

export const faultKinds = {
  'kill-processor': 'SIGKILL the processor, restart it after the hold',
  'kill-ingest': 'SIGKILL ingest-api, restart it after the hold',
  'kill-redis': 'SIGKILL Redis (its AOF tail unsynced), restart it on the same AOF after the hold',
  'rollback-redis': 'SIGKILL Redis and restart it from a copy of its AOF taken `ageMs` earlier (writes lost)',
  'kafka-latency': "toxiproxy latency on every service's Kafka connections",
  'kafka-timeout': 'toxiproxy timeout on Kafka: data held, then the connections closed',
  'kafka-reset': 'toxiproxy reset_peer on Kafka: connections reset',
  'redis-latency': "toxiproxy latency on every service's Redis connections",
  'redis-reset': 'toxiproxy reset_peer on Redis: connections reset',
  'second-processor': 'a second processor joins the group (a rebalance) and leaves after the hold (SIGTERM or SIGKILL)',
  'skewed-processor': 'a second processor whose wall clock runs `param` s ahead (libfaketime) joins, sweeps and leaves',
} as const;
export type FaultKind = keyof typeof faultKinds;

const weights: Record<FaultKind, number> = {
  'kill-processor': 3,
  'kill-ingest': 2,
  'kill-redis': 2,
  'rollback-redis': 1,
  'kafka-latency': 2,
  'kafka-timeout': 1,
  'kafka-reset': 2,
  'redis-latency': 2,
  'redis-reset': 2,
  'second-processor': 2,
  'skewed-processor': 1,
};

export interface Fault {
  /** Milliseconds from the start of the load. */
  at: number;
  kind: FaultKind;
  /** How long the fault lasts before it is healed (the service down, the toxic on). */
  holdMs: number;
  /** Latency toxics: ms added; rollback: how old the AOF copy is; second-processor: 1 = leave by SIGKILL;
   * skewed-processor: seconds its clock is ahead. */
  param: number;
}

/** Faults stop this long before the end, so the last one is healed while the load still runs. */
export const quietTailMs = 5000;

export function makeSchedule(seed: number, durationMs: number): Fault[] {
  const rng = new Prng(seed);
  const faults: Fault[] = [];
  let t = rng.int(2000, 4000);
  for (;;) {
    const kind = rng.weighted(weights);
    const holdMs = rng.int(1000, 5000);
    const param = kind.endsWith('latency')
      ? rng.int(50, 800)
      : kind === 'rollback-redis'
        ? rng.int(500, 3000)
        : kind === 'second-processor'
          ? rng.int(0, 1)
          : kind === 'skewed-processor'
            ? rng.int(30, 600)
            : 0;
    // The AOF copy of a rollback is taken `param` ms before the fault: it must fall after the previous one.
    const start = kind === 'rollback-redis' ? t + param : t;
    if (start + holdMs > durationMs - quietTailMs) break;
    faults.push({ at: start, kind, holdMs, param });
    t = start + holdMs + rng.int(1500, 5000);
  }
  return faults;
}

export const describeFault = (f: Fault) =>
  `${(f.at / 1000).toFixed(1).padStart(6)} s  ${f.kind.padEnd(16)} for ${(f.holdMs / 1000).toFixed(1)} s` +
  (f.kind.endsWith('latency')
    ? ` (+${f.param} ms)`
    : f.kind === 'rollback-redis'
      ? ` (to the AOF of ${f.param} ms before)`
      : f.kind === 'second-processor'
        ? ` (leaves by ${f.param ? 'SIGKILL' : 'SIGTERM'})`
        : f.kind === 'skewed-processor'
          ? ` (clock +${f.param} s)`
          : '');
