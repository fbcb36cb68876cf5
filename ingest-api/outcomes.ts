// Requests waiting for a transaction's outcome (`?wait=`). The processor announces each outcome on one
// pub/sub channel as it records it (common/status.ts announceOutcome); every ingest-api subscribes once and
// wakes the requests waiting for that id. No request polls Redis: it reads the status record when it starts
// waiting and once more when it is woken or its time runs out.
import { EventEmitter } from 'node:events';
import { limits } from '../common/limits.ts';
import { outcomeWaiters } from '../common/metrics.ts';

/** Why a wait ended: the outcome was announced, the time ran out, the client left, or ingest-api is stopping. */
export type WaitEnd = 'announced' | 'timeout' | 'aborted' | 'closing';

export interface Waiter {
  readonly ended: Promise<WaitEnd>;
  /** Ends the wait now (the caller has its answer): frees its timer and its place. Idempotent. */
  cancel(): void;
}

/** The subscriber connection as used here (an ioredis connection in subscriber mode). */
export interface Subscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
}

interface Entry {
  end(why: WaitEnd): void;
}

export class OutcomeWaiters {
  private readonly byId = new Map<string, Set<Entry>>();
  private count = 0;
  private closed = false;
  /** For tests and metrics: announcements received. */
  readonly events = new EventEmitter();

  constructor(
    private readonly subscriber: Subscriber,
    private readonly channel: string,
    private readonly max: number = limits.maxWaiters,
  ) {
    subscriber.on('message', (ch, message) => {
      if (ch !== this.channel) return;
      let id: unknown;
      try {
        id = (JSON.parse(message) as { id?: unknown }).id;
      } catch {
        return;
      }
      if (typeof id === 'string') this.wake(id);
    });
  }

  /** Subscribes (queued by the connection until it is up; it resubscribes by itself after a reconnect). */
  start(): Promise<unknown> {
    return this.subscriber.subscribe(this.channel);
  }

  /** Requests waiting now. */
  get size(): number {
    return this.count;
  }

  /**
   * Waits up to `ms` for `id`'s outcome to be announced, or until `signal` aborts (the client left).
   * Undefined when `max` requests already wait, or ingest-api is stopping: the caller answers at once.
   */
  wait(id: string, ms: number, signal?: AbortSignal): Waiter | undefined {
    if (this.closed || this.count >= this.max || signal?.aborted) return undefined;
    let resolve!: (why: WaitEnd) => void;
    const ended = new Promise<WaitEnd>((r) => {
      resolve = r;
    });
    let done = false;
    const entry: Entry = {
      end: (why) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.byId.get(id);
        set?.delete(entry);
        if (set?.size === 0) this.byId.delete(id);
        this.count--;
        outcomeWaiters.set(this.count);
        resolve(why);
      },
    };
    const onAbort = () => entry.end('aborted');
    const timer = setTimeout(() => entry.end('timeout'), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(entry);
    this.count++;
    outcomeWaiters.set(this.count);
    return { ended, cancel: () => entry.end('aborted') };
  }

  /** Ends every wait (ingest-api is stopping: each request answers with what it has); no new ones. */
  close(): void {
    this.closed = true;
    for (const set of [...this.byId.values()]) for (const e of [...set]) e.end('closing');
  }

  private wake(id: string): void {
    this.events.emit('announced', id);
    const set = this.byId.get(id);
    if (set) for (const e of [...set]) e.end('announced');
  }
}
