// One Server-Sent Events connection: headers, events, heartbeats, and a bound on what may wait to be sent.
import type { Response } from 'express';
import { limits } from '../common/limits.ts';

export interface SseEvent {
  /** The event's id: what the client sends back as Last-Event-ID to resume after it. */
  id?: string;
  event: string;
  data: unknown;
}

export class SseClient {
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];
  /** Live events held back while the client's missed events are being replayed (see hold/release). */
  private held: SseEvent[] | undefined;

  constructor(
    private readonly res: Response,
    private readonly maxBuffered: number = limits.maxStreamBufferBytes,
    heartbeatMs: number = limits.streamHeartbeatMs,
  ) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // A buffering proxy (nginx) would hold the events back.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    // A comment line now and then: proxies and load balancers close connections that stay silent.
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    res.once('close', () => {
      this.closed = true;
      clearInterval(this.heartbeat);
      for (const f of this.closeListeners.splice(0)) f();
    });
  }

  /** Called once when the connection ends (at once if it has). */
  onClose(f: () => void): void {
    if (this.res.closed) f();
    else this.closeListeners.push(f);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** A live event: sent, or held while a replay runs. */
  send(e: SseEvent): void {
    if (this.held) {
      this.held.push(e);
      if (this.held.length > limits.maxStreamReplay) this.drop();
      return;
    }
    this.sendNow(e);
  }

  /** An event sent at once, held or not (the replay itself). */
  sendNow(e: SseEvent): void {
    const id = e.id === undefined ? '' : `id: ${e.id}\n`;
    this.write(`${id}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  }

  /** Holds live events back while the missed ones are replayed. */
  hold(): void {
    this.held ??= [];
  }

  /** Forgets the live events held so far (the state about to be sent includes them). */
  clearHeld(): void {
    if (this.held) this.held.length = 0;
  }

  /** Sends the live events held meanwhile, and the next ones as they come. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const e of held) this.sendNow(e);
  }

  /** A client too slow to take its events is dropped, never buffered without bound: it reconnects and resumes. */
  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    if (this.res.writableLength > this.maxBuffered) this.drop();
  }

  drop(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.res.destroy();
  }
}

/** The Last-Event-ID a reconnecting client sends (header, or `lastEventId` in the query for a first connect). */
export function lastEventId(
  headers: Record<string, string | string[] | undefined>,
  query: unknown,
): string | undefined {
  const h = headers['last-event-id'];
  if (typeof h === 'string' && h !== '') return h;
  const q = (query as Record<string, unknown>).lastEventId;
  return typeof q === 'string' && q !== '' ? q : undefined;
}
