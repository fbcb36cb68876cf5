// Redis forgets its last writes after the processor committed their offsets: a restart from an older
// copy of its AOF, as after a crash with an unsynced tail or an operator's restore. Every accepted
// transaction must still end applied exactly once, from the log (processor/positions.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { copyAof, rollBackAof, startRedis, type RedisServer } from '../stack/redis.ts';
import { applyAll } from './domains.ts';
import { committedToEnd } from '../ops/committed.ts';
import { startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { expiringKey } from '../common/keys.ts';
import { partitionOfKey } from '../common/kafka.ts';

let p: Pipeline;
let redis: RedisServer;
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'txpipe-rollback-'));
  port = await freePort();
  redis = await startRedis({ dir, port });
  p = await startPipeline({ env: { TXPIPE_REDIS_URL: redis.url, TXPIPE_WATERMARK_CHECK_MS: '500' } });
});
afterAll(async () => {
  await p?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of Redis's AOF as it is now (written on every event loop turn; the copy is a prefix of it). */
function snapshot(): string {
  return copyAof(redis, `snapshot-${Date.now()}`);
}

/** SIGKILL, then a restart from the older copy: everything written since the copy is gone. */
async function rollBackTo(copy: string): Promise<void> {
  await rollBackAof(redis, copy);
  redis = await startRedis({ dir, port });
  // ingest-api reconnects with a backoff: until then its reads answer 503, which proves nothing either way.
  await waitFor(
    'ingest-api reading Redis again',
    async () => (await p.get('/v1/accounts/nobody')).status !== 503,
    10_000,
    50,
  );
}

/** Until the group has committed everything on the topics: the lost writes' offsets are behind it. */
async function waitCommitted(topics: string[]): Promise<void> {
  const admin = p.kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      'offsets committed to the end of the topics',
      () => committedToEnd(admin, `${p.prefix}-processor`, topics),
      60_000,
      200,
    );
  } finally {
    await admin.disconnect();
  }
}

async function rewindsSoFar(): Promise<number> {
  const text = await fetch(p.processor.readyUrl.replace('/readyz', '/metrics')).then((r) => r.text());
  return [...text.matchAll(/^txpipe_processor_rewinds_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

it('credits and transfers lost by Redis after their offsets were committed are applied again, exactly once', async () => {
  const accounts = Array.from({ length: 8 }, () => uid('rb'));
  const start = 1000;
  await applyAll(
    p,
    accounts.map((account) => ({ type: 'wallet.open', account })),
  );
  await applyAll(
    p,
    accounts.map((account) => ({ type: 'wallet.credit', account, amount: start })),
  );
  const copy = snapshot();

  // After the copy: credits and transfers (small enough never to be refused), applied and committed.
  const expected = new Map(accounts.map((a) => [a, start]));
  const bodies: object[] = [];
  for (let i = 0; i < 160; i++) {
    const account = accounts[i % accounts.length]!;
    const amount = 1 + (i % 7);
    if (i % 2 === 0) {
      bodies.push({ type: 'wallet.credit', account, amount });
      expected.set(account, expected.get(account)! + amount);
    } else {
      const to = accounts[(i * 3 + 1) % accounts.length]!;
      if (to === account) continue;
      bodies.push({ type: 'wallet.transfer', from: account, to, amount });
      expected.set(account, expected.get(account)! - amount);
      expected.set(to, expected.get(to)! + amount);
    }
  }
  const outcomes = await applyAll(p, bodies);
  expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
  await waitCommitted([p.topics.wallet]);
  const rewindsBefore = await rewindsSoFar();

  await rollBackTo(copy);
  // The lost transactions are gone from Redis for now (proof that the rollback is real).
  expect((await p.get(`/v1/transactions/${outcomes[0]!.id}`)).status).toBe(404);

  // Every accepted id has its outcome again, and each took effect once.
  const again = await waitForOutcomes(
    p,
    outcomes.map((o) => o.id),
    90_000,
  );
  expect([...again.values()].every((o) => o.status === 'applied')).toBe(true);
  await waitFor(
    'balances and transfers settled',
    async () => {
      const reads = await Promise.all(accounts.map((a) => p.get(`/v1/accounts/${a}`)));
      return reads.every((r, i) => r.body?.balance === expected.get(accounts[i]!) && r.body.outgoing === 0);
    },
    60_000,
    200,
  ).catch(async (e) => {
    const reads = await Promise.all(accounts.map((a) => p.get(`/v1/accounts/${a}`)));
    throw new Error(
      `${(e as Error).message}: ${JSON.stringify(reads.map((r, i) => [r.body, expected.get(accounts[i]!)]))}`,
    );
  });
  let total = 0;
  for (const a of accounts) {
    const { body } = await p.get(`/v1/accounts/${a}`);
    expect(body.outgoing).toBeGreaterThanOrEqual(0);
    total += body.balance;
  }
  // Conservation: transfers only move money, credits add exactly what was accepted.
  expect(total).toBe(start * accounts.length + sumCredits(bodies));
  expect(await rewindsSoFar()).toBeGreaterThan(rewindsBefore);
});

function sumCredits(bodies: object[]): number {
  return bodies.reduce(
    (n, b) => n + ((b as { type: string }).type === 'wallet.credit' ? (b as { amount: number }).amount : 0),
    0,
  );
}

it('holds, reservations and seat holds lost by Redis end resolved or pending-and-indexed, then expire', async () => {
  const [account, sku, event] = [uid('rbw'), uid('rbs'), uid('rbe')];
  await applyAll(p, [
    { type: 'wallet.open', account },
    { type: 'stock.set', sku, quantity: 50 },
    { type: 'seats.define', event, seats: ['A1', 'A2', 'A3', 'A4'] },
  ]);
  await applyAll(p, [{ type: 'wallet.credit', account, amount: 1000 }]);
  const copy = snapshot();

  // In the tail Redis will lose: holds that expire soon, and holds resolved before the loss.
  const [h1, h2, r1, r2, s1, s2] = [uid('h'), uid('h'), uid('r'), uid('r'), uid('s'), uid('s')];
  const short = 3000;
  const long = 600_000;
  await applyAll(p, [
    { id: h1, type: 'wallet.hold', account, amount: 100, ttl: short },
    { id: h2, type: 'wallet.hold', account, amount: 50, ttl: long },
    { id: r1, type: 'stock.reserve', sku, quantity: 2, customer: 'c1', ttl: short },
    { id: r2, type: 'stock.reserve', sku, quantity: 3, customer: 'c2', ttl: long },
    { id: s1, type: 'seats.hold', event, seats: ['A1', 'A2'], holder: 'c1', ttl: short },
    { id: s2, type: 'seats.hold', event, seats: ['A3'], holder: 'c2', ttl: long },
  ]);
  const resolved = await applyAll(p, [
    { type: 'wallet.capture', account, hold: h2 },
    { type: 'stock.confirm', sku, reservation: r2 },
    { type: 'seats.confirm', event, hold: s2 },
  ]);
  expect(resolved.map((o) => o.code)).toEqual(['ok', 'ok', 'ok']);
  await waitCommitted([p.topics.wallet, p.topics.stock, p.topics.seats]);

  await rollBackTo(copy);
  expect((await p.get(`/v1/accounts/${account}/holds/${h2}`)).status).toBe(404);

  await waitFor(
    'every hold resolved',
    async () => {
      const states = await Promise.all([
        p.get(`/v1/accounts/${account}/holds/${h1}`),
        p.get(`/v1/accounts/${account}/holds/${h2}`),
        p.get(`/v1/stock/${sku}/reservations/${r1}`),
        p.get(`/v1/stock/${sku}/reservations/${r2}`),
        p.get(`/v1/events/${event}/holds/${s1}`),
        p.get(`/v1/events/${event}/holds/${s2}`),
      ]);
      return (
        JSON.stringify(states.map((r) => r.body?.state)) ===
        JSON.stringify(['expired', 'captured', 'expired', 'confirmed', 'expired', 'confirmed'])
      );
    },
    60_000,
    250,
  );
  const [acct, stock, seats] = await Promise.all([
    p.get(`/v1/accounts/${account}`),
    p.get(`/v1/stock/${sku}`),
    p.get(`/v1/events/${event}/seats`),
  ]);
  expect(acct.body).toMatchObject({ balance: 950, held: 0, available: 950 });
  expect(stock.body).toMatchObject({ stocked: 50, available: 47, reserved: 0, sold: 3 });
  expect(seats.body).toMatchObject({ free: 3, held: 0, sold: 1 });
  // Nothing left in the sweeper's index: no hold is stranded pending, none indexed after it ended.
  for (const [topic, member] of [
    [p.topics.wallet, `${account} ${h1}`],
    [p.topics.stock, `${sku} ${r1}`],
    [p.topics.seats, `${event} ${s1}`],
  ] as const) {
    expect(
      await p.redis.zscore(expiringKey(topic, partitionOfKey(member.split(' ')[0]!, p.partitions)), member),
      member,
    ).toBeNull();
  }
  // The status records tell the same story as the state.
  const statuses = await waitForOutcomes(
    p,
    resolved.map((o) => o.id),
  );
  expect([...statuses.values()].map((s) => s.status)).toEqual(['applied', 'applied', 'applied']);
});
