// Admission by event-loop delay. When ingest-api is short of CPU, a request waits to be read in the same
// queue whether it will get a 202 or a 503, so refusing past a count of requests in flight answers the 503s
// as late as the 202s. Instead, a share of new transaction requests is refused at once (503 overloaded,
// nothing read) while the event loop runs late: the share grows while the delay stays over its target and
// shrinks once it is well under, so what is admitted keeps a bounded latency and the refusals stay cheap.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { limits } from '../common/limits.ts';

export interface AdmissionOptions {
  /** Event-loop delay above which the refused share grows, ms. */
  targetDelayMs: number;
  /** How often the delay is read and the share adjusted, ms. */
  intervalMs: number;
  /** The largest share refused: some requests always get through, so the delay keeps being measured under load. */
  maxShare: number;
  /** The share's step up per late interval (it steps down by half as much per quiet one). */
  step: number;
  random?: () => number;
}

export const defaultAdmission: AdmissionOptions = {
  targetDelayMs: limits.admissionTargetDelayMs,
  intervalMs: limits.admissionIntervalMs,
  maxShare: 0.9,
  step: 0.1,
};

export class Admission {
  /** The share of new transaction requests refused now, 0..maxShare. */
  share = 0;
  private histogram?: IntervalHistogram;
  private timer?: NodeJS.Timeout;
  private readonly random: () => number;

  constructor(private readonly o: AdmissionOptions = defaultAdmission) {
    this.random = o.random ?? Math.random;
  }

  /** Adjusts the share to the worst event-loop delay seen over the last interval, in ms. */
  observe(delayMs: number): void {
    const { targetDelayMs, maxShare, step } = this.o;
    if (delayMs > targetDelayMs) this.share = Math.min(maxShare, this.share + step);
    else if (delayMs < targetDelayMs / 2) this.share = Math.max(0, this.share - step / 2);
  }

  /** Whether to take this request; false: answer 503 at once. */
  admit(): boolean {
    return this.share === 0 || this.random() >= this.share;
  }

  /** Starts watching this process's event loop; returns the function that stops it. */
  start(onChange?: (share: number) => void): () => void {
    const resolutionMs = 5;
    const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    histogram.enable();
    this.histogram = histogram;
    this.timer = setInterval(() => {
      // The histogram counts the timer's own resolution in every sample: what is past it is the delay.
      const delayMs = histogram.max / 1e6 - resolutionMs;
      histogram.reset();
      const before = this.share;
      this.observe(delayMs);
      if (this.share !== before) onChange?.(this.share);
    }, this.o.intervalMs);
    this.timer.unref();
    return () => this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram?.disable();
    this.share = 0;
  }
}
