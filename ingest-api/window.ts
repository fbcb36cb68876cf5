// Single-transaction requests arriving within `lingerMs` of one another are accepted together, as a batch
// is: one pipeline of reference checks, one of claims, one produce call and one of accept marks for all of
// them, instead of Redis round trips for each (the claims used to go one per request). Each request still
// gets its own answer, and a 202 only once Kafka acknowledged its own record.
import type { Message } from '../common/messages/index.ts';
import { acceptAll, type Accepted, type AcceptDeps } from './accept.ts';
import type { ApiError } from './errors.ts';
import { limits } from '../common/limits.ts';

interface Waiting {
  message: Message;
  producer?: string;
  resolve(r: Accepted | ApiError): void;
  reject(e: unknown): void;
}

export class AcceptWindow {
  private open: Waiting[] = [];
  private cancelTimer: (() => void) | undefined;
  /** Requests of closed windows still waiting for their answers. */
  private answering = 0;

  constructor(
    private readonly deps: AcceptDeps,
    private readonly lingerMs: number,
    private readonly maxItems: number = limits.maxAcceptWindowItems,
  ) {}

  /** The message's answer: Accepted, or the ApiError refusing it (4xx, or 503 when Kafka did not acknowledge). */
  accept(message: Message, producer?: string): Promise<Accepted | ApiError> {
    return new Promise((resolve, reject) => {
      this.open.push({ message, producer, resolve, reject });
      if (this.open.length >= this.maxItems) this.close();
      else if (this.open.length === 1) this.cancelTimer = this.schedule();
    });
  }

  private schedule(): () => void {
    if (this.lingerMs === 0) {
      const t = setImmediate(() => this.close());
      return () => clearImmediate(t);
    }
    const t = setTimeout(() => this.close(), this.lingerMs);
    return () => clearTimeout(t);
  }

  private close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const items = this.open;
    this.open = [];
    this.answering += items.length;
    acceptAll(
      this.deps,
      items.map((it) => ({ message: it.message, producer: it.producer, prefix: '' })),
    )
      .then(
        (results) => items.forEach((it, i) => it.resolve(results[i]!)),
        (e: unknown) => items.forEach((it) => it.reject(e)),
      )
      .finally(() => {
        this.answering -= items.length;
      });
  }

  /** On shutdown, before the producer goes: waits until every request taken has its answer. */
  async drain(): Promise<void> {
    if (this.open.length) this.close();
    while (this.answering > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
