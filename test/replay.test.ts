// Replay: the log is the source of truth. A second processor (another consumer group) reads every domain
// topic from offset 0 into an empty Redis and arrives at the same balances, stock and seat maps, holds and
// idempotency flags as the live run, expiries included ("now" is each message's time, never the clock).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { domains } from '../common/domains.ts';
import { freePort } from '../stack/ports.ts';
import { startRedis, type RedisServer } from '../stack/redis.ts';
import { Service, startPipeline, uid, waitFor, type Pipeline } from './harness.ts';
import { apply, applyAll, type Outcome } from './domains.ts';
import { expiringKey } from '../common/keys.ts';
import type { RedisClient } from '../common/redis.ts';

let p: Pipeline;
let replayRedis: RedisServer | undefined;
let replayProcessor: Service | undefined;
const dir = mkdtempSync(join(tmpdir(), 'txpipe-replay-'));
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await replayProcessor?.stop();
  await replayRedis?.stop();
  await p?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = uid('rp');
/** Holds that stay pending through the test (and the replay); the others expire after 1 s. */
const HOUR = 3_600_000;
const name = (s: string) => `${run}-${s}`;

/** Every key of this run's entities (state, holds, customers, flags) and the sweeper's index. */
async function snapshot(redis: RedisClient) {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*{${run}-*`, 'COUNT', 5000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  keys.sort();
  const pipe = redis.pipeline();
  for (const k of keys) pipe.type(k);
  const types = ((await pipe.exec()) ?? []).map(([, t]) => t as string);
  const read = redis.pipeline();
  keys.forEach((k, i) => (types[i] === 'hash' ? read.hgetall(k) : read.get(k)));
  const values = ((await read.exec()) ?? []).map(([, v]) => v);
  const index = await Promise.all(
    domains.flatMap((d) =>
      [...Array(p.partitions).keys()].map((n) => redis.zrange(expiringKey(p.topics[d], n), 0, -1, 'WITHSCORES')),
    ),
  );
  return { entries: Object.fromEntries(keys.map((k, i) => [k, values[i]])), index };
}

const ok = (os: Outcome[]) => os.filter((o) => o.code === 'ok');
const pick = <T>(xs: T[], n: number) => xs.filter((_, i) => i % n === 0);

it('a second processor replaying the topics from offset 0 into an empty Redis gets the same state', async () => {
  // wallet: accounts, transfers (some refunded), holds captured, voided and expired, a closed account.
  const accts = Array.from({ length: 8 }, (_, i) => name(`a${i}`));
  await applyAll(p, [
    ...accts.map((account, i) => ({ type: 'wallet.open', account, overdraft: i * 50 })),
    { type: 'wallet.open', account: name('closing') },
  ]);
  await applyAll(p, [
    ...accts.map((account) => ({ type: 'wallet.credit', account, amount: 1000 })),
    { type: 'wallet.close', account: name('closing') },
  ]);
  const transfers = await applyAll(
    p,
    Array.from({ length: 120 }, (_, i) => ({
      type: 'wallet.transfer',
      from: accts[i % 8],
      to: i % 17 === 0 ? name('ghost') : accts[(i * 3 + 1) % 8],
      amount: 1 + ((i * 37) % 300),
    })),
  );
  const walletHolds = await applyAll(
    p,
    accts.map((account, i) => ({ type: 'wallet.hold', account, amount: 50 + i, ttl: i < 4 ? HOUR : 1000 })),
  );
  await applyAll(p, [
    ...walletHolds.slice(0, 2).map((h, i) => ({ type: 'wallet.capture', account: accts[i], hold: h.id, amount: 20 })),
    ...walletHolds.slice(2, 4).map((h, i) => ({ type: 'wallet.void', account: accts[i + 2], hold: h.id })),
  ]);

  // stock: a sale with confirms, releases and expiries, and a restock.
  const sku = name('sku');
  await apply(p, { type: 'stock.set', sku, quantity: 50, perCustomerLimit: 3 });
  const reservations = await applyAll(
    p,
    Array.from({ length: 60 }, (_, i) => ({
      type: 'stock.reserve',
      sku,
      quantity: 1 + (i % 2),
      customer: name(`c${i % 20}`),
      ttl: i % 4 === 0 ? 1000 : HOUR,
    })),
  );
  const longLived = ok(reservations).filter((_, i) => i % 4 !== 0);
  await applyAll(p, [
    ...pick(longLived, 2).map((r) => ({ type: 'stock.confirm', sku, reservation: r.id })),
    ...pick(longLived.slice(1), 3).map((r) => ({ type: 'stock.release', sku, reservation: r.id })),
  ]);
  await apply(p, { type: 'stock.restock', sku, quantity: 10 });

  // seats: overlapping holds, confirms, releases, expiries, a redefinition.
  const event = name('event');
  const seats = Array.from({ length: 30 }, (_, i) => `R${Math.floor(i / 10)}S${i % 10}`);
  await apply(p, { type: 'seats.define', event, seats });
  const seatHolds = await applyAll(
    p,
    Array.from({ length: 40 }, (_, i) => ({
      type: 'seats.hold',
      event,
      seats: [seats[i % 30], seats[(i * 7 + 3) % 30]].filter((s, j, a) => a.indexOf(s) === j),
      holder: name(`h${i}`),
      ttl: i % 3 === 0 ? 1000 : HOUR,
    })),
  );
  const heldLong = ok(seatHolds).filter((_, i) => i % 3 !== 0);
  await applyAll(p, [
    ...pick(heldLong, 2).map((h) => ({ type: 'seats.confirm', event, hold: h.id })),
    ...pick(heldLong.slice(1), 2).map((h) => ({ type: 'seats.release', event, hold: h.id })),
  ]);
  await apply(p, { type: 'seats.define', event, seats: [...seats, 'R3S0', 'R3S1'] });

  // Let the short holds expire in the live run (the sweeper's expire commands go into the log).
  await waitFor(
    'short holds expired',
    async () => {
      // Only the hour-long holds may remain in the sweeper's index.
      const idx = await Promise.all(
        domains.flatMap((d) =>
          [...Array(p.partitions).keys()].map((n) =>
            p.redis.zrangebyscore(expiringKey(p.topics[d], n), '-inf', Date.now() + HOUR / 2),
          ),
        ),
      );
      return idx.every((members) => !members.some((m) => m.includes(run)));
    },
    30_000,
  );
  expect(ok(transfers).length).toBeGreaterThan(50);
  expect(transfers.some((t) => t.code === 'account_not_found')).toBe(true);
  const live = await snapshot(p.redis);
  expect((await p.get(`/v1/accounts/${accts[7]}/holds/${walletHolds[7]!.id}`)).body.state).toBe('expired');
  expect((await p.get(`/v1/stock/${sku}`)).body).toMatchObject({ stocked: 60, reserved: expect.any(Number) });

  // The replay: an empty Redis, a new consumer group, the same topics from offset 0.
  replayRedis = await startRedis({ dir });
  const port = await freePort();
  replayProcessor = new Service(
    'processor',
    {
      ...p.processor.env,
      TXPIPE_REDIS_URL: replayRedis.url,
      TXPIPE_GROUP_ID: `${p.prefix}-replay`,
      TXPIPE_PROCESSOR_PORT: String(port),
    },
    `http://127.0.0.1:${port}/readyz`,
  );
  await replayProcessor.start();
  const replayed = new Redis(replayRedis.url);
  try {
    await waitFor(
      'the replay to reach the live state',
      async () => JSON.stringify(await snapshot(replayed)) === JSON.stringify(live),
      90_000,
    ).catch(() => undefined);
    const got = await snapshot(replayed);
    expect(Object.keys(got.entries).length).toBeGreaterThan(400);
    expect(got).toEqual(live);
    // And the live run did not move while the replay re-published follow-ups and expiries into the log.
    expect(await snapshot(p.redis)).toEqual(live);
  } finally {
    replayed.disconnect();
  }
}, 180_000);
