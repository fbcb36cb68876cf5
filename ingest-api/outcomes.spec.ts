// OutcomeWaiters without Redis: woken by an announcement, bounded, and leaving nothing behind.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutcomeWaiters } from './outcomes.ts';

class FakeSubscriber extends EventEmitter {
  channels: string[] = [];
  subscribe(channel: string) {
    this.channels.push(channel);
    return Promise.resolve(1);
  }
  announce(channel: string, id: string) {
    this.emit('message', channel, JSON.stringify({ id, status: 'applied' }));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('OutcomeWaiters', () => {
  it('subscribes once and wakes every waiter of the announced id, and only those', async () => {
    const sub = new FakeSubscriber();
    const w = new OutcomeWaiters(sub, 'outcomes:{t.results}');
    await w.start();
    expect(sub.channels).toEqual(['outcomes:{t.results}']);
    const [a1, a2, b] = [w.wait('a', 10_000)!, w.wait('a', 10_000)!, w.wait('b', 10_000)!];
    expect(w.size).toBe(3);
    sub.announce('other-channel', 'a');
    sub.emit('message', 'outcomes:{t.results}', 'not json');
    sub.announce('outcomes:{t.results}', 'a');
    expect(await a1.ended).toBe('announced');
    expect(await a2.ended).toBe('announced');
    expect(w.size).toBe(1);
    b.cancel();
    expect(await b.ended).toBe('aborted');
    expect(w.size).toBe(0);
  });

  it('ends a wait when its time runs out, and frees its timer', async () => {
    vi.useFakeTimers();
    const w = new OutcomeWaiters(new FakeSubscriber(), 'c');
    const waiter = w.wait('a', 500)!;
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    expect(await waiter.ended).toBe('timeout');
    expect(w.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a client that leaves ends its wait at once: no timer, no entry left', async () => {
    vi.useFakeTimers();
    const w = new OutcomeWaiters(new FakeSubscriber(), 'c');
    const gone = new AbortController();
    const waiter = w.wait('a', 30_000, gone.signal)!;
    gone.abort();
    expect(await waiter.ended).toBe('aborted');
    expect(w.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(w.wait('a', 1000, gone.signal)).toBeUndefined(); // already gone: no wait at all
  });

  it('past the cap a request does not wait; a freed place can be taken again', () => {
    const w = new OutcomeWaiters(new FakeSubscriber(), 'c', 2);
    const first = w.wait('a', 10_000)!;
    w.wait('b', 10_000);
    expect(w.wait('c', 10_000)).toBeUndefined();
    first.cancel();
    first.cancel(); // idempotent: counted once
    expect(w.size).toBe(1);
    expect(w.wait('c', 10_000)).toBeDefined();
    w.close();
    expect(w.size).toBe(0);
  });

  it('close() answers every waiter and takes no new ones', async () => {
    const w = new OutcomeWaiters(new FakeSubscriber(), 'c');
    const waiter = w.wait('a', 10_000)!;
    w.close();
    expect(await waiter.ended).toBe('closing');
    expect(w.wait('a', 10_000)).toBeUndefined();
  });
});
