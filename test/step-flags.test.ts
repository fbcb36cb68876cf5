// A client's transaction whose id looks like a step of another (`T1:settle`, `H:expire`) is a transaction
// of its own: it never takes that step's idempotency flag, so the transfer still settles or refunds and
// the hold still expires after its ttl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, uid, waitFor, type Pipeline } from './harness.ts';
import { apply } from './domains.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await p?.stop();
});

const statusOf = async (id: string) => (await p.get(`/v1/transactions/${id}`)).body;
const decided = (id: string) =>
  waitFor(
    `${id} decided`,
    async () => {
      const s = await statusOf(id);
      return s.status !== 'pending' && s;
    },
    20_000,
  );

async function account(start: number) {
  const a = uid('acct');
  expect((await apply(p, { type: 'wallet.open', account: a })).code).toBe('ok');
  if (start) expect((await apply(p, { type: 'wallet.credit', account: a, amount: start })).code).toBe('ok');
  return a;
}

describe('a transfer whose step ids a client used first', () => {
  it.each(['settle', 'credit', 'debit'])(
    'T:%s, then transfer T: it applies, and the money moves once',
    async (step) => {
      const [a, b] = [await account(100), await account(0)];
      const t = uid('T');
      // The attacker's transaction on the account the step runs on, decided before the transfer.
      const on = step === 'credit' ? b : a;
      expect(await apply(p, { id: `${t}:${step}`, type: 'wallet.credit', account: on, amount: 1 })).toMatchObject({
        code: 'ok',
      });
      expect((await p.post({ id: t, type: 'wallet.transfer', from: a, to: b, amount: 40 })).status).toBe(202);
      expect(await decided(t)).toMatchObject({ status: 'applied', code: 'ok' });
      const extra = (x: string) => (x === on ? 1 : 0);
      expect((await p.get(`/v1/accounts/${a}`)).body).toMatchObject({ balance: 60 + extra(a), outgoing: 0 });
      expect((await p.get(`/v1/accounts/${b}`)).body).toMatchObject({ balance: 40 + extra(b), outgoing: 0 });
    },
  );

  it('T:refund, then transfer T to a missing account: it is refunded', async () => {
    const a = await account(100);
    const t = uid('T');
    expect((await apply(p, { id: `${t}:refund`, type: 'wallet.credit', account: a, amount: 1 })).code).toBe('ok');
    expect((await p.post({ id: t, type: 'wallet.transfer', from: a, to: uid('ghost'), amount: 40 })).status).toBe(202);
    expect(await decided(t)).toMatchObject({ status: 'rejected', code: 'account_not_found' });
    expect((await p.get(`/v1/accounts/${a}`)).body).toMatchObject({ balance: 101, outgoing: 0 });
  });
});

describe('a hold whose expire id a client used first still expires after its ttl', () => {
  it('wallet hold H after a credit H:expire on its account', async () => {
    const a = await account(100);
    const h = uid('H');
    expect((await apply(p, { id: `${h}:expire`, type: 'wallet.credit', account: a, amount: 1 })).code).toBe('ok');
    expect((await apply(p, { id: h, type: 'wallet.hold', account: a, amount: 50, ttl: 1000 })).code).toBe('ok');
    await waitFor(
      'the wallet hold to expire',
      async () => (await p.get(`/v1/accounts/${a}/holds/${h}`)).body.state === 'expired',
      20_000,
    );
    expect((await p.get(`/v1/accounts/${a}`)).body).toMatchObject({ balance: 101, held: 0, available: 101 });
  });

  it('stock reservation H after a restock H:expire on its sku', async () => {
    const sku = uid('sku');
    const h = uid('H');
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10 })).code).toBe('ok');
    expect((await apply(p, { id: `${h}:expire`, type: 'stock.restock', sku, quantity: 1 })).code).toBe('ok');
    expect((await apply(p, { id: h, type: 'stock.reserve', sku, quantity: 3, customer: 'c', ttl: 1000 })).code).toBe(
      'ok',
    );
    await waitFor(
      'the reservation to expire',
      async () => (await p.get(`/v1/stock/${sku}/reservations/${h}`)).body.state === 'expired',
      20_000,
    );
    expect((await p.get(`/v1/stock/${sku}`)).body).toMatchObject({ stocked: 11, available: 11, reserved: 0 });
  });

  it('seat hold H after the event was defined by H:expire', async () => {
    const event = uid('ev');
    const h = uid('H');
    expect((await apply(p, { id: `${h}:expire`, type: 'seats.define', event, seats: ['A1', 'A2'] })).code).toBe('ok');
    expect((await apply(p, { id: h, type: 'seats.hold', event, seats: ['A1'], holder: 'x', ttl: 1000 })).code).toBe(
      'ok',
    );
    await waitFor(
      'the seat hold to expire',
      async () => (await p.get(`/v1/events/${event}/holds/${h}`)).body.state === 'expired',
      20_000,
    );
    expect((await p.get(`/v1/events/${event}/seats`)).body).toMatchObject({ free: 2, held: 0 });
  });
});
