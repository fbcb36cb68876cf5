// Every entity keeps its changes, written by the script that makes them: GET .../entries, newest first, a
// page at a time. The invariant: an account's balance is the sum of the amounts of its retained entries
// plus its balance at the window's start (the oldest entry's balance before its amount).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entriesKey, entityKey, flagKey } from '../common/keys.ts';
import { callScript, defineScripts } from '../lua/scripts.ts';
import { readTopic, startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.stop();
});

type Entry = {
  entry: string;
  id: string;
  type: string;
  at: number;
  amount: number;
  balance: number;
  available: number;
};

/** Every entry, page by page (`limit` each), newest first. */
async function allEntries(path: string, limit: number): Promise<{ entries: any[]; pages: number }> {
  const entries: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await p.get(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.body.entries.length).toBeLessThanOrEqual(limit);
    entries.push(...r.body.entries);
    cursor = r.body.next;
    pages++;
  } while (cursor);
  return { entries, pages };
}

/** The history invariant, and each entry's balance following from the one before it. */
function expectBalanced(newestFirst: Entry[], balance: number) {
  const oldest = newestFirst.at(-1)!;
  const atStart = oldest.balance - oldest.amount;
  expect(newestFirst.reduce((sum, e) => sum + e.amount, atStart)).toBe(balance);
  const chronological = [...newestFirst].reverse();
  chronological.forEach((e, i) => {
    if (i > 0) expect(e.balance, e.type).toBe(chronological[i - 1]!.balance + e.amount);
  });
}

async function post(body: Record<string, unknown>) {
  const r = await p.post(body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id as string;
}

describe('history', () => {
  it("an account's entries: every change, newest first, paged; the balance is their sum from the window's start", async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const ids = [
      await post({ type: 'wallet.open', account: alice }),
      await post({ type: 'wallet.open', account: bob }),
    ];
    await waitForOutcomes(p, ids);
    const hold = uid('hold');
    const steps = [
      { type: 'wallet.credit', account: alice, amount: 1000 },
      { type: 'wallet.debit', account: alice, amount: 300 },
      { id: hold, type: 'wallet.hold', account: alice, amount: 200, ttl: 60_000 },
      { type: 'wallet.capture', account: alice, hold, amount: 150 },
      { type: 'wallet.transfer', from: alice, to: bob, amount: 100 },
      { type: 'wallet.debit', account: alice, amount: 1_000_000 }, // rejected: no entry
    ];
    const stepIds: string[] = [];
    for (const s of steps) {
      stepIds.push(await post(s));
      await waitForOutcomes(p, [stepIds.at(-1)!]);
    }
    const outcomes = await waitForOutcomes(p, stepIds);
    // A rejection records the account's real numbers, not zeros.
    expect(JSON.parse(outcomes.get(stepIds[5]!)!.result!)).toEqual({ balance: 450, available: 450 });

    const account = (await p.get(`/v1/accounts/${alice}`)).body;
    expect(account.balance).toBe(450);
    const { entries, pages } = await allEntries(`/v1/accounts/${alice}/entries`, 2);
    expect(pages).toBe(4);
    // open, credit, debit, hold, capture, the transfer's debit and its settle; the rejected debit left none.
    expect(entries.map((e) => [e.type, e.amount])).toEqual([
      ['wallet.transfer.settle', 0],
      ['wallet.transfer', -100],
      ['wallet.capture', -150],
      ['wallet.hold', 0],
      ['wallet.debit', -300],
      ['wallet.credit', 1000],
      ['wallet.open', 0],
    ]);
    expect(entries[0]).toMatchObject({ id: stepIds[4], balance: 450, available: 450 });
    expect(entries[3]).toMatchObject({ id: hold, balance: 700, available: 500 });
    expectBalanced(entries, account.balance);
    const bobs = (await p.get(`/v1/accounts/${bob}/entries`)).body.entries;
    expect(bobs.map((e: Entry) => [e.type, e.amount, e.balance])).toEqual([
      ['wallet.transfer.credit', 100, 100],
      ['wallet.open', 0, 0],
    ]);
    expectBalanced(bobs, 100);

    // Entry ids come from the log: the message's time and offset, not Redis's clock.
    const credit = (await readTopic(p.kafka, p.topics.wallet)).find(
      (m) => JSON.parse(m.value!.toString()).id === stepIds[0],
    );
    expect(entries[5].entry).toBe(`${credit!.timestamp}-${credit!.offset}`);
  });

  it("a sku's and an event's entries", async () => {
    const [sku, event, reservation, seatHold] = [uid('sku'), uid('gig'), uid('res'), uid('sh')];
    const ids = [
      await post({ type: 'stock.set', sku, quantity: 10 }),
      await post({ id: reservation, type: 'stock.reserve', sku, quantity: 3, customer: 'c1', ttl: 60_000 }),
      await post({ type: 'seats.define', event, seats: ['A1', 'A2', 'A3'] }),
    ];
    await waitForOutcomes(p, ids);
    const more = [
      await post({ type: 'stock.confirm', sku, reservation }),
      await post({ id: seatHold, type: 'seats.hold', event, seats: ['A1', 'A2'], holder: 'h', ttl: 60_000 }),
    ];
    await waitForOutcomes(p, more);
    await waitForOutcomes(p, [await post({ type: 'seats.confirm', event, hold: seatHold })]);

    const stock = (await p.get(`/v1/stock/${sku}/entries`)).body;
    expect(stock).toMatchObject({ next: null });
    expect(stock.entries.map((e: any) => [e.type, e.available, e.reserved, e.sold, e.change])).toEqual([
      ['stock.confirm', 7, 0, 3, { available: 0, reserved: -3, sold: 3 }],
      ['stock.reserve', 7, 3, 0, { available: -3, reserved: 3, sold: 0 }],
      ['stock.set', 10, 0, 0, { available: 10, reserved: 0, sold: 0 }],
    ]);
    const seats = (await p.get(`/v1/events/${event}/entries`)).body.entries;
    expect(seats.map((e: any) => [e.type, e.change, e.seats])).toEqual([
      ['seats.confirm', 'sold', ['A1', 'A2']],
      ['seats.hold', 'held', ['A1', 'A2']],
      ['seats.define', 'defined', 3],
    ]);
  });

  it('unknown entities are 404, bad pages 400', async () => {
    expect((await p.get(`/v1/accounts/${uid('none')}/entries`)).status).toBe(404);
    expect((await p.get(`/v1/stock/${uid('none')}/entries`)).status).toBe(404);
    expect((await p.get('/v1/events/x/entries?limit=0')).body).toMatchObject({ code: 'out_of_range', field: 'limit' });
    expect((await p.get('/v1/events/x/entries?limit=501')).body).toMatchObject({
      code: 'out_of_range',
      field: 'limit',
    });
    expect((await p.get('/v1/events/x/entries?cursor=abc')).body).toMatchObject({
      code: 'invalid_value',
      field: 'cursor',
    });
  });

  it('entries older than the retention are trimmed by message time, and the invariant holds over the window', async () => {
    // The scripts driven directly, with message times far apart and a 2 s retention.
    const redis = p.redis;
    defineScripts(redis);
    {
      const account = uid('trim');
      const retention = 2000;
      const t0 = 1_700_000_000_000;
      const run = (id: string, type: string, offset: number, now: number, script: string, args: (string | number)[]) =>
        callScript(
          redis,
          script,
          [flagKey('wallet', account, id), entityKey('wallet', account), entriesKey('wallet', account)],
          [`d-${id}`, retention, now, `${offset} ${id} ${type}`, ...args],
        );
      await run('o', 'wallet.open', 1, t0, 'wallet.open', [0]);
      await run('c1', 'wallet.credit', 2, t0 + 100, 'wallet.credit', [500]);
      await run('c2', 'wallet.credit', 5, t0 + 1000, 'wallet.credit', [70]);
      await run('d1', 'wallet.debit', 9, t0 + 2500, 'wallet.debit', [20]);
      // The open and the first credit are past the retention at t0 + 2500: trimmed.
      const { entries } = (await p.get(`/v1/accounts/${account}/entries`)).body;
      expect(entries.map((e: Entry) => e.entry)).toEqual([`${t0 + 2500}-9`, `${t0 + 1000}-5`]);
      expectBalanced(entries, 550);
      expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(550);
      // A redelivery repeats nothing: same reply, no new entry.
      expect(await run('d1', 'wallet.debit', 9, t0 + 2500, 'wallet.debit', [20])).toEqual(['ok', 0, 550, 550]);
      expect(await redis.zcard(entriesKey('wallet', account))).toBe(2);
      expect(await redis.pttl(entriesKey('wallet', account))).toBeGreaterThan(0);
    }
  });
});
