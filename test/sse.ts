// A Server-Sent Events reader for the tests: fetch, then events parsed from the body as they arrive.
export interface Event {
  id?: string;
  event: string;
  data: any;
}

export class EventReader {
  private readonly events: Event[] = [];
  private waiting: (() => void) | undefined;
  readonly controller = new AbortController();
  status = 0;
  headers?: Headers;

  static async open(url: string, headers: Record<string, string> = {}): Promise<EventReader> {
    const r = new EventReader();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: r.controller.signal });
    r.status = res.status;
    r.headers = res.headers;
    if (res.ok && res.body) void r.pump(res.body);
    return r;
  }

  private async pump(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: Partial<Event> & { lines: string[] } = { lines: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.lines.push(line.slice(6));
          }
          if (e.event) this.events.push({ id: e.id, event: e.event, data: JSON.parse(e.lines.join('\n')) });
          this.waiting?.();
        }
      }
    } catch {
      /* aborted */
    }
  }

  /** The next `n` events (waits up to `timeoutMs`). */
  async next(n = 1, timeoutMs = 15_000): Promise<Event[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${n} events; have ${JSON.stringify(this.events)}`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 100);
      });
    }
    return this.events.splice(0, n);
  }

  close() {
    this.controller.abort();
  }
}
