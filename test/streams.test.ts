// Live streams (SSE): a sku's counts, an event's seats and every outcome, pushed after each change, resumed
// with Last-Event-ID without gaps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';
import { EventReader } from './sse.ts';
import { outcomeFeedKey } from '../common/keys.ts';

let p: Pipeline;
const open: EventReader[] = [];
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  for (const r of open) r.close();
  await p?.stop();
});

const stream = async (path: string, headers?: Record<string, string>) => {
  const r = await EventReader.open(`${p.ingestUrl}${path}`, { ...p.auth, ...headers });
  open.push(r);
  return r;
};
async function apply(body: Record<string, unknown>) {
  const r = await p.post(body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  await waitForOutcomes(p, [r.body.id]);
  return r.body.id as string;
}

describe('live streams', () => {
  it("a sku's counts after every change; a reconnect with Last-Event-ID gets the changes it missed", async () => {
    const sku = uid('sku');
    await apply({ type: 'stock.set', sku, quantity: 10 });
    const s = await stream(`/v1/stock/${sku}/stream`);
    expect(s.status).toBe(200);
    expect(s.headers!.get('content-type')).toMatch(/^text\/event-stream/);
    const [first] = await s.next();
    expect(first).toMatchObject({ event: 'stock', data: { sku, stocked: 10, available: 10, reserved: 0, sold: 0 } });

    const reservation = await apply({ type: 'stock.reserve', sku, quantity: 2, customer: 'c', ttl: 60_000 });
    const [reserved] = await s.next();
    expect(reserved).toMatchObject({
      event: 'stock',
      data: {
        available: 8,
        reserved: 2,
        sold: 0,
        change: { available: -2, reserved: 2, sold: 0 },
        transaction: reservation,
      },
    });
    s.close();

    await apply({ type: 'stock.confirm', sku, reservation });
    await apply({ type: 'stock.restock', sku, quantity: 5 });
    const resumed = await stream(`/v1/stock/${sku}/stream`, { 'Last-Event-ID': reserved!.id! });
    const [missed1, missed2, now] = await resumed.next(3);
    expect(missed1!.data).toMatchObject({ type: 'stock.confirm', available: 8, reserved: 0, sold: 2 });
    expect(missed2!.data).toMatchObject({ type: 'stock.restock', available: 13, sold: 2, stocked: 15 });
    expect(now!.data).toMatchObject({ available: 13, reserved: 0, sold: 2 });
    expect(Number(missed1!.id)).toBeGreaterThan(Number(reserved!.id));
    expect(now!.id).toBe(missed2!.id);
  });

  it("an event's seats: the map, then each change with the counts", async () => {
    const event = uid('gig');
    await apply({ type: 'seats.define', event, seats: ['A1', 'A2', 'A3'] });
    const s = await stream(`/v1/events/${event}/seats/stream`);
    const [map] = await s.next();
    expect(map).toMatchObject({ event: 'seats', data: { event, free: 3, held: 0, sold: 0 } });
    expect(map!.data.seats).toHaveLength(3);
    const hold = await apply({ type: 'seats.hold', event, seats: ['A1', 'A2'], holder: 'h', ttl: 60_000 });
    expect((await s.next())[0]).toMatchObject({
      event: 'change',
      data: { change: 'held', seats: ['A1', 'A2'], free: 1, held: 2, sold: 0 },
    });
    await apply({ type: 'seats.confirm', event, hold });
    expect((await s.next())[0]).toMatchObject({
      event: 'change',
      data: { change: 'sold', seats: ['A1', 'A2'], free: 1, held: 0, sold: 2 },
    });
  });

  it('every outcome as it is recorded, resumed with Last-Event-ID', async () => {
    const s = await stream('/v1/transactions/stream');
    const account = uid('acct');
    const opened = await apply({ type: 'wallet.open', account });
    const [o] = await s.next();
    expect(o).toMatchObject({
      event: 'outcome',
      data: { id: opened, type: 'wallet.open', status: 'applied', code: 'ok' },
    });
    s.close();
    const missed = [
      await apply({ type: 'wallet.credit', account, amount: 5 }),
      await apply({ type: 'wallet.debit', account, amount: 50 }),
    ];
    const resumed = await stream('/v1/transactions/stream', { 'Last-Event-ID': o!.id! });
    const events = await resumed.next(2);
    expect(events.map((e) => [e.data.id, e.data.status])).toEqual([
      [missed[0], 'applied'],
      [missed[1], 'rejected'],
    ]);
    const live = await apply({ type: 'wallet.credit', account, amount: 1 });
    expect((await resumed.next())[0]!.data.id).toBe(live);
  });

  it('a resume from before what the outcome feed still holds starts with a gap event', async () => {
    const account = uid('acct');
    const first = await stream('/v1/transactions/stream');
    await apply({ type: 'wallet.open', account });
    const [o] = await first.next();
    first.close();
    for (let i = 0; i < 3; i++) await apply({ type: 'wallet.credit', account, amount: 1 });
    // The feed keeps only its newest entry now: what came after o is partly gone.
    await p.redis.xtrim(outcomeFeedKey(p.topics.results), 'MAXLEN', 1);
    const resumed = await stream('/v1/transactions/stream', { 'Last-Event-ID': o!.id! });
    const [gap, kept] = await resumed.next(2);
    expect(gap!.event).toBe('gap');
    expect(kept).toMatchObject({ event: 'outcome', data: { type: 'wallet.credit' } });
  });

  it('an unknown sku or event is 404 before any stream opens', async () => {
    expect((await fetch(`${p.ingestUrl}/v1/stock/${uid('none')}/stream`, { headers: p.auth })).status).toBe(404);
    expect((await fetch(`${p.ingestUrl}/v1/events/${uid('none')}/seats/stream`, { headers: p.auth })).status).toBe(404);
  });
});
