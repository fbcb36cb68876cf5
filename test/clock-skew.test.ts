// A processor whose clock runs ahead (libfaketime, a real skewed process) must not expire holds early:
// the sweeper stamps its expire commands with Redis's clock, not its own, and the scripts compare that
// stamp with the hold's expiry.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apply } from './domains.ts';
import { sleep, startPipeline, uid, waitFor, type Pipeline } from './harness.ts';

const skewSeconds = 120;
const hasFaketime = (() => {
  try {
    execFileSync('faketime', ['-f', '+0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

let p: Pipeline;
beforeAll(async () => {
  if (!hasFaketime && !process.env.CI) return; // CI installs faketime (.ci/run)
  p = await startPipeline({
    env: { TXPIPE_SWEEP_INTERVAL_MS: '100' },
    // Only the wall clock is skewed: timers (monotonic) run normally, as on a host whose NTP is off.
    processorEnv: { FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    processorWrapper: ['faketime', '-f', `+${skewSeconds}s`],
  });
});
afterAll(async () => {
  await p?.stop();
});

it.skipIf(!hasFaketime && !process.env.CI)(
  "a hold, reservation and seat hold expire at their ttl by Redis's clock, not a fast processor's",
  async () => {
    const account = uid('acct');
    const sku = uid('sku');
    const event = uid('ev');
    for (const body of [
      { type: 'wallet.open', account },
      { type: 'wallet.credit', account, amount: 100 },
      { type: 'stock.set', sku, quantity: 10 },
      { type: 'seats.define', event, seats: ['A1', 'A2'] },
    ])
      expect((await apply(p, body)).code).toBe('ok');

    const ttl = 4000;
    const opened = Date.now();
    const holds = [
      await apply(p, { type: 'wallet.hold', account, amount: 40, ttl }),
      await apply(p, { type: 'stock.reserve', sku, customer: 'c1', quantity: 2, ttl }),
      await apply(p, { type: 'seats.hold', event, seats: ['A1'], holder: 'h1', ttl }),
    ];
    for (const h of holds) expect(h.code).toBe('ok');
    // Well before the ttl by the real clock, though long past it by the processor's: still pending.
    await sleep(Math.max(0, opened + ttl / 2 - Date.now()));
    expect((await p.get(`/v1/accounts/${account}`)).body).toMatchObject({ held: 40, available: 60 });
    expect((await p.get(`/v1/stock/${sku}`)).body).toMatchObject({ reserved: 2 });
    expect((await p.get(`/v1/events/${event}/holds/${holds[2]!.id}`)).body).toMatchObject({ state: 'pending' });

    // And they do expire once the ttl has passed.
    await waitFor(
      'the holds to expire',
      async () => {
        const [a, s, h] = await Promise.all([
          p.get(`/v1/accounts/${account}`),
          p.get(`/v1/stock/${sku}`),
          p.get(`/v1/events/${event}/holds/${holds[2]!.id}`),
        ]);
        return a.body.held === 0 && s.body.reserved === 0 && h.body.state === 'expired';
      },
      30_000,
    );
    expect(Date.now() - opened).toBeGreaterThanOrEqual(ttl - 500);
  },
);
