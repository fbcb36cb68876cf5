// SseClient without a server: heartbeats, a bound on buffered bytes, held events while replaying.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseClient } from './sse.ts';

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  writableLength = 0;
  closed = false;
  destroyed = false;
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  destroy() {
    this.destroyed = true;
    this.closed = true;
    this.emit('close');
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SseClient', () => {
  it('sends events with their ids, and a heartbeat comment while idle', () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    const c = new SseClient(res as never, 1000, 50);
    c.send({ id: '7', event: 'stock', data: { a: 1 } });
    expect(res.chunks.at(-1)).toBe('id: 7\nevent: stock\ndata: {"a":1}\n\n');
    vi.advanceTimersByTime(50);
    expect(res.chunks.at(-1)).toBe(': heartbeat\n\n');
  });

  it('drops a client whose unsent bytes pass the bound, and stops its heartbeat', () => {
    vi.useFakeTimers();
    const res = new FakeResponse();
    const closed = vi.fn();
    const c = new SseClient(res as never, 100, 50);
    c.onClose(closed);
    res.writableLength = 101; // the client stopped reading
    c.send({ event: 'x', data: 1 });
    expect(res.destroyed).toBe(true);
    expect(closed).toHaveBeenCalledOnce();
    const written = res.chunks.length;
    vi.advanceTimersByTime(500);
    c.send({ event: 'x', data: 2 });
    expect(res.chunks.length).toBe(written);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds live events while a replay is sent, then sends them in order', () => {
    const res = new FakeResponse();
    const c = new SseClient(res as never);
    c.hold();
    c.send({ id: '3', event: 'e', data: 'live' });
    c.sendNow({ id: '2', event: 'e', data: 'missed' });
    c.release();
    expect(res.chunks.slice(-2).map((x) => /id: (\d)/.exec(x)![1])).toEqual(['2', '3']);
    res.emit('close');
  });
});
