// Flash sale: never oversold, never over a customer's limit, sold + reserved + available = stocked always,
// and unconfirmed reservations come back when their ttl passes.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPipeline, uid, waitFor, type Pipeline } from './harness.ts';
import { apply, applyAll } from './domains.ts';
import { customersKey } from '../common/keys.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await p?.stop();
});

const stock = async (sku: string) => (await p.get(`/v1/stock/${sku}`)).body;
const invariantHolds = (s: { stocked: number; available: number; reserved: number; sold: number }, stocked: number) =>
  s.stocked === stocked &&
  s.available + s.reserved + s.sold === stocked &&
  s.available >= 0 &&
  s.reserved >= 0 &&
  s.sold >= 0;

/** Reads the sku every 20 ms, from outside, through the read endpoint, until stopped. */
function watchInvariant(sku: string, stocked: number) {
  let on = true;
  const broken: object[] = [];
  let reads = 0;
  const done = (async () => {
    while (on) {
      const s = await stock(sku).catch(() => undefined);
      if (s) reads++;
      if (s && !invariantHolds(s, stocked)) broken.push(s);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      on = false;
      await done;
      return { broken, reads };
    },
  };
}

describe('stock', () => {
  it('1,000 concurrent buyers (200 customers, limit 2) for 100 units: exactly 100 reserved, then all back after the ttl', async () => {
    const sku = uid('sku');
    const UNITS = 100,
      BUYERS = 1000,
      CUSTOMERS = 200,
      LIMIT = 2,
      TTL = 30_000;
    expect(await apply(p, { type: 'stock.set', sku, quantity: UNITS, perCustomerLimit: LIMIT })).toMatchObject({
      code: 'ok',
      result: { available: UNITS },
    });

    const watch = watchInvariant(sku, UNITS);
    onTestFinished(async () => {
      await watch.stop();
    });

    // Each customer's 5 requests go out side by side, so the limit is hit while units remain.
    const customers = Array.from({ length: CUSTOMERS }, () => uid('cust'));
    const perBuyer = BUYERS / CUSTOMERS;
    const bodies = Array.from({ length: BUYERS }, (_, i) => ({
      type: 'stock.reserve',
      sku,
      quantity: 1,
      customer: customers[Math.floor(i / perBuyer)]!,
      ttl: TTL,
    }));
    const started = Date.now();
    const outcomes = await applyAll(p, bodies);
    const tookMs = Date.now() - started;
    expect(tookMs, 'the sale must be decided well within the ttl for the checks below to mean anything').toBeLessThan(
      TTL - 5000,
    );

    const ok = outcomes.filter((o) => o.code === 'ok');
    expect(ok).toHaveLength(UNITS);
    expect(new Set(outcomes.map((o) => o.code))).toEqual(
      new Set(['ok', 'insufficient_stock', 'customer_limit_exceeded']),
    );
    const perCustomer = new Map<string, number>();
    outcomes.forEach((o, i) => {
      if (o.code === 'ok') perCustomer.set(bodies[i]!.customer, (perCustomer.get(bodies[i]!.customer) ?? 0) + 1);
    });
    expect(Math.max(...perCustomer.values())).toBeLessThanOrEqual(LIMIT);
    expect(await stock(sku)).toMatchObject({ stocked: UNITS, available: 0, reserved: UNITS, sold: 0 });
    expect(await p.redis.hgetall(customersKey(sku))).toEqual(
      Object.fromEntries([...perCustomer].map(([c, n]) => [c, String(n)])),
    );

    // Nobody confirms: the sweeper expires every reservation once its ttl has passed.
    await waitFor('all units back in available', async () => (await stock(sku)).available === UNITS, 60_000);
    const { broken, reads } = await watch.stop();
    expect(broken, 'invariant violations observed during the run').toEqual([]);
    expect(reads).toBeGreaterThan(10);
    expect(await stock(sku)).toMatchObject({ stocked: UNITS, available: UNITS, reserved: 0, sold: 0 });
    const states = await Promise.all(
      ok.map(async (o) => (await p.get(`/v1/stock/${sku}/reservations/${o.id}`)).body.state),
    );
    expect(new Set(states)).toEqual(new Set(['expired']));
    expect(await p.redis.exists(customersKey(sku))).toBe(0);
    // Expired means released for good: a late confirm is refused with its own code.
    expect(await apply(p, { type: 'stock.confirm', sku, reservation: ok[0]!.id })).toMatchObject({
      status: 'rejected',
      code: 'reservation_expired',
    });
  });

  it('confirm, release, expire, restock and set keep sold + reserved + available = stocked', async () => {
    const sku = uid('sku');
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10 })).code).toBe('ok');
    const reserve = (quantity: number, ttl = 60_000) =>
      apply(p, { type: 'stock.reserve', sku, quantity, customer: uid('c'), ttl });
    const [r1, r2, r3] = [await reserve(3), await reserve(2), await reserve(4, 1000)];
    expect([r1.code, r2.code, r3.code]).toEqual(['ok', 'ok', 'ok']);
    expect(await reserve(2)).toMatchObject({ status: 'rejected', code: 'insufficient_stock' });
    expect(await stock(sku)).toMatchObject({ stocked: 10, available: 1, reserved: 9, sold: 0 });

    expect(await apply(p, { type: 'stock.confirm', sku, reservation: r1.id })).toMatchObject({
      code: 'ok',
      result: { available: 1, reserved: 6, sold: 3 },
    });
    expect(await apply(p, { type: 'stock.release', sku, reservation: r2.id })).toMatchObject({
      code: 'ok',
      result: { available: 3, reserved: 4, sold: 3 },
    });
    expect((await apply(p, { type: 'stock.confirm', sku, reservation: r1.id })).code).toBe('reservation_confirmed');
    expect((await apply(p, { type: 'stock.release', sku, reservation: r1.id })).code).toBe('reservation_confirmed');
    expect((await apply(p, { type: 'stock.confirm', sku, reservation: r2.id })).code).toBe('reservation_released');

    await waitFor('r3 to expire', async () => (await stock(sku)).reserved === 0, 15_000);
    expect(await stock(sku)).toMatchObject({ stocked: 10, available: 7, reserved: 0, sold: 3 });
    expect((await apply(p, { type: 'stock.confirm', sku, reservation: r3.id })).code).toBe('reservation_expired');

    expect(await apply(p, { type: 'stock.set', sku, quantity: 2 })).toMatchObject({
      status: 'rejected',
      code: 'quantity_below_committed',
    });
    expect(await apply(p, { type: 'stock.restock', sku, quantity: 5 })).toMatchObject({
      code: 'ok',
      result: { available: 12, sold: 3 },
    });
    expect(await apply(p, { type: 'stock.set', sku, quantity: 20, perCustomerLimit: 1 })).toMatchObject({
      code: 'ok',
      result: { available: 17, sold: 3 },
    });
    expect(await stock(sku)).toMatchObject({ stocked: 20, available: 17, reserved: 0, sold: 3, perCustomerLimit: 1 });
    expect((await apply(p, { type: 'stock.restock', sku: uid('nosku'), quantity: 1 })).code).toBe('sku_not_found');
  });

  it('stock.set without perCustomerLimit leaves the limit as it is; 0 removes it', async () => {
    const sku = uid('sku');
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10 })).code).toBe('ok');
    expect((await stock(sku)).perCustomerLimit).toBeNull();
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10, perCustomerLimit: 2 })).code).toBe('ok');
    expect((await apply(p, { type: 'stock.set', sku, quantity: 30 })).code).toBe('ok');
    expect(await stock(sku)).toMatchObject({ stocked: 30, perCustomerLimit: 2 });
    const customer = uid('c');
    expect(await apply(p, { type: 'stock.reserve', sku, quantity: 3, customer, ttl: 60_000 })).toMatchObject({
      code: 'customer_limit_exceeded',
    });
    expect((await apply(p, { type: 'stock.set', sku, quantity: 30, perCustomerLimit: 0 })).code).toBe('ok');
    expect((await stock(sku)).perCustomerLimit).toBeNull();
    expect((await apply(p, { type: 'stock.reserve', sku, quantity: 3, customer, ttl: 60_000 })).code).toBe('ok');
  });

  it('lowering the limit keeps what a customer has; their new reserves are refused until they are under it', async () => {
    const sku = uid('sku');
    const customer = uid('c');
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10, perCustomerLimit: 3 })).code).toBe('ok');
    const reserve = (quantity: number) => apply(p, { type: 'stock.reserve', sku, quantity, customer, ttl: 60_000 });
    const [r1, r2] = [await reserve(2), await reserve(1)];
    expect([r1.code, r2.code]).toEqual(['ok', 'ok']);
    expect((await apply(p, { type: 'stock.set', sku, quantity: 10, perCustomerLimit: 1 })).code).toBe('ok');
    expect(await stock(sku)).toMatchObject({ reserved: 3, perCustomerLimit: 1 });
    expect((await apply(p, { type: 'stock.confirm', sku, reservation: r2.id })).code).toBe('ok');
    expect((await reserve(1)).code).toBe('customer_limit_exceeded');
    // 3 units (2 reserved, 1 sold): releasing the 2 brings the customer to 1, still not under a limit of 1.
    expect((await apply(p, { type: 'stock.release', sku, reservation: r1.id })).code).toBe('ok');
    expect((await reserve(1)).code).toBe('customer_limit_exceeded');
    expect(
      (await apply(p, { type: 'stock.reserve', sku, quantity: 1, customer: uid('other'), ttl: 60_000 })).code,
    ).toBe('ok');
    expect(await stock(sku)).toMatchObject({ stocked: 10, available: 8, reserved: 1, sold: 1 });
  });
});
