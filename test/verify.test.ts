// npm run verify against a state the real pipeline built: it holds, and each damage done to it afterwards
// (an index entry removed, a seat sold by no hold, a held sum off, a transfer's money lost in flight, a
// status record gone, a balance moved without its history entry) is reported exactly, with its entity.
// Its own Redis: verify scans every key, and the shared test Redis holds other files' states.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { customersKey, entityKey, expiringKey, flagKey, holdKey, statusKey } from '../common/keys.ts';
import { partitionOfKey } from '../common/kafka.ts';
import { runVerify } from '../ops/verify-cli.ts';
import type { Violation } from '../ops/verify.ts';
import { startRedis, type RedisServer } from '../stack/redis.ts';
import { applyAll } from './domains.ts';
import { services, startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
let redis: RedisServer;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'txpipe-verify-'));
  redis = await startRedis({ dir });
  p = await startPipeline({ env: { TXPIPE_REDIS_URL: redis.url } });
  env = {
    TXPIPE_REDIS_URL: redis.url,
    TXPIPE_TOPIC_PREFIX: p.prefix,
    TXPIPE_KAFKA_BROKERS: services().kafkaBrokers.join(','),
  };
});
afterAll(async () => {
  await p?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const brief = (v: Violation[]) => v.map((x) => `${x.check} ${x.entity}`).sort();

it('a state built by the pipeline holds; each damage is reported exactly', async () => {
  const [a, b, sku, event] = [uid('va'), uid('vb'), uid('vs'), uid('ve')];
  await applyAll(p, [
    { type: 'wallet.open', account: a, overdraft: 50 },
    { type: 'wallet.open', account: b },
    { type: 'stock.set', sku, quantity: 10, perCustomerLimit: 3 },
    { type: 'seats.define', event, seats: ['A1', 'A2', 'A3', 'A4'] },
  ]);
  await applyAll(p, [{ type: 'wallet.credit', account: a, amount: 1000 }]);
  const [walletHold, , reserve, , seatHold, sold] = await applyAll(p, [
    { type: 'wallet.hold', account: a, amount: 200, ttl: 600_000 },
    { id: 'T1:settle', type: 'wallet.transfer', from: a, to: b, amount: 300 },
    { type: 'stock.reserve', sku, quantity: 2, customer: 'c1', ttl: 600_000 },
    { type: 'stock.reserve', sku, quantity: 3, customer: 'c2', ttl: 600_000 },
    { type: 'seats.hold', event, seats: ['A1', 'A2'], holder: 'h1', ttl: 600_000 },
    { type: 'seats.hold', event, seats: ['A3'], holder: 'h2', ttl: 600_000 },
  ]);
  await applyAll(p, [
    { type: 'seats.confirm', event, hold: sold!.id },
    { type: 'stock.confirm', sku, reservation: reserve!.id },
  ]);

  const clean = await runVerify({ log: true, env });
  expect(clean.violations).toEqual([]);
  expect(clean.warnings).toEqual([]);
  expect(clean.counted).toMatchObject({ accounts: 2, skus: 1, events: 1, transfersInFlight: 0 });
  expect(clean.counted.outcomes).toBeGreaterThanOrEqual(13);

  // Damage, each kind once.
  await p.processor.stop();
  await p.redis.zrem(expiringKey(p.topics.wallet, partitionOfKey(a, p.partitions)), `${a} ${walletHold!.id}`);
  await p.redis.hset(entityKey('seats', event), 'A4', 'sold nobody');
  await p.redis.hincrby(entityKey('stock', sku), 'reserved', 1);
  // A transfer whose debit applied and that never settled, with its money gone from outgoing.
  await p.redis.set(flagKey('wallet', b, 'lost', 'debit'), 'digest ok 0 0');
  await p.redis.del(statusKey(seatHold!.id));
  // A balance moved behind its history's back.
  await p.redis.hincrby(entityKey('wallet', a), 'balance', 7);

  const damaged = await runVerify({ log: true, env });
  expect(brief(damaged.violations)).toEqual(
    brief([
      { check: 'hold_indexed', entity: holdKey('wallet', a, walletHold!.id) },
      { check: 'seat_state', entity: entityKey('seats', event) },
      { check: 'stock_reserved', entity: entityKey('stock', sku) },
      { check: 'stock_customers', entity: customersKey(sku) },
      { check: 'account_outgoing', entity: entityKey('wallet', b) },
      { check: 'log_outcome', entity: statusKey(seatHold!.id) },
      { check: 'account_entries', entity: entityKey('wallet', a) },
    ] as Violation[]),
  );
  const numbers = Object.fromEntries(damaged.violations.map((v) => [v.check, v.numbers]));
  expect(numbers.stock_reserved).toEqual({ reserved: 3 + 1, pendingReservations: 3 });
  expect(numbers.account_outgoing).toEqual({ outgoing: 0, transfersInFlight: 1 });
  expect(numbers.account_entries).toMatchObject({ balance: 707, available: 557 });
  expect(numbers.seat_state).toMatchObject({ seat: 'A4', value: 'sold nobody', holdState: '(none)' });
  expect(damaged.ok).toBe(false);
});
