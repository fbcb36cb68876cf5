// Each record lives as long as its purpose needs: ingest's claim and the status record for the idempotency
// window, the flags and hold records for the flag retention, the history for its own; the processor says
// at start when Redis's maxmemory cannot hold that. Records of the status layout before the compact one
// (still in Redis for a window after an upgrade) keep their answers, re-sends and conflicts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entityKey, entriesKey, flagKey, holdKey, scopedId, statusKey } from '../common/keys.ts';
import { anyMessage, digestOf } from '../common/messages/index.ts';
import { readStatus, scriptRetention } from '../common/status.ts';
import { callScript, defineScripts } from '../lua/scripts.ts';
import { services, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

const windowMs = 60_000;
const flagMs = 600_000;
const historyMs = 300_000;

let p: Pipeline;
let admin: Redis;
let maxmemoryBefore = '0';
beforeAll(async () => {
  // A maxmemory far above what the tests use (nothing is refused), far below the windows at a billion a second.
  admin = new Redis(services().redisUrl);
  maxmemoryBefore = ((await admin.config('GET', 'maxmemory')) as string[])[1]!;
  await admin.config('SET', 'maxmemory', String(100 * 2 ** 30));
  p = await startPipeline({
    env: {
      TXPIPE_IDEMPOTENCY_WINDOW_MS: String(windowMs),
      TXPIPE_FLAG_RETENTION_MS: String(flagMs),
      TXPIPE_HISTORY_RETENTION_MS: String(historyMs),
      TXPIPE_SIZING_TX_PER_SEC: '1000000000',
    },
  });
});
afterAll(async () => {
  await p?.stop();
  await admin?.config('SET', 'maxmemory', maxmemoryBefore);
  admin?.disconnect();
});

const stored = (id: string) => scopedId(p.namespace, id);
const pttl = (key: string) => p.redis.pttl(key);

async function posted(body: object, id = uid('tx')) {
  const r = await p.post(body, { 'Idempotency-Key': id });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  await waitForOutcomes(p, [id]);
  return id;
}

describe('retention by purpose', () => {
  it('status record: the idempotency window; flag and hold record: the flag retention; history: its own', async () => {
    const account = uid('acct');
    await posted({ type: 'wallet.open', account });
    const credit = await posted({ type: 'wallet.credit', account, amount: 500 });
    const hold = await posted({ type: 'wallet.hold', account, amount: 100, ttl: 600_000 });
    // A pending hold lives until it is resolved; resolved, as long as the flags.
    expect(await pttl(holdKey('wallet', account, stored(hold)))).toBe(-1);
    await posted({ type: 'wallet.void', account, hold });

    for (const id of [credit, hold]) {
      const ttl = await pttl(statusKey(stored(id)));
      expect(ttl, `status record of ${id}`).toBeGreaterThan(windowMs - 15_000);
      expect(ttl).toBeLessThanOrEqual(windowMs);
    }
    for (const key of [flagKey('wallet', account, stored(credit)), holdKey('wallet', account, stored(hold))]) {
      const ttl = await pttl(key);
      expect(ttl, key).toBeGreaterThan(flagMs - 15_000);
      expect(ttl).toBeLessThanOrEqual(flagMs);
    }
    const ttl = await pttl(entriesKey('wallet', account));
    expect(ttl).toBeGreaterThan(historyMs - 15_000);
    expect(ttl).toBeLessThanOrEqual(historyMs);
    // The entity itself never expires.
    expect(await pttl(entityKey('wallet', account))).toBe(-1);
  });

  it('the scripts trim the history by its own retention, and keep the flags for theirs', async () => {
    defineScripts(p.redis);
    const account = uid('trim');
    const t0 = 1_700_000_000_000;
    const retention = scriptRetention({ flagMs, historyMs: 2000 });
    const run = (id: string, type: string, offset: number, now: number, args: number[]) =>
      callScript(
        p.redis,
        type,
        [flagKey('wallet', account, id), entityKey('wallet', account), entriesKey('wallet', account)],
        [`d-${id}`, retention, now, `${offset} ${id} ${type}`, ...args],
      );
    await run('o', 'wallet.open', 1, t0, [0]);
    await run('c1', 'wallet.credit', 2, t0 + 2500, [5]);
    // The open's entry is past the history's 2 s at t0 + 2500; its flag is not.
    expect(await p.redis.zcard(entriesKey('wallet', account))).toBe(1);
    expect(await pttl(flagKey('wallet', account, 'o'))).toBeGreaterThan(flagMs - 15_000);
    expect(await pttl(entriesKey('wallet', account))).toBeLessThanOrEqual(2000);
  });

  it('the processor warns at start when maxmemory cannot hold the windows at the configured rate', async () => {
    await waitFor('the sizing warning', async () =>
      p.processor.output.includes('cannot hold the configured retention'),
    );
    const line = p.processor.output.split('\n').find((l) => l.includes('cannot hold the configured retention'))!;
    expect(JSON.parse(line)).toMatchObject({
      lvl: 'warn',
      maxmemory: 100 * 2 ** 30,
      txPerSec: 1_000_000_000,
      idempotencyWindowMs: windowMs,
      flagRetentionMs: flagMs,
      historyRetentionMs: historyMs,
    });
  });
});

describe('status records of the layout before', () => {
  /** What ingest-api computes for this body under this id. */
  const digest = (id: string, body: object) => digestOf(anyMessage.parse({ id: stored(id), ...body }));

  it('the digest ingest computes is the one this test computes (the cases below rely on it)', async () => {
    const account = uid('acct');
    const id = await posted({ type: 'wallet.open', account });
    const record = readStatus(await p.redis.hgetall(statusKey(stored(id))))!;
    expect(record.digest).toBe(digest(id, { type: 'wallet.open', account }));
  });

  it('a decided record reads the same, a re-send is replayed and another payload refused', async () => {
    const id = uid('old');
    const body = { type: 'wallet.credit', account: uid('acct'), amount: 7 };
    await p.redis.hset(statusKey(stored(id)), {
      digest: digest(id, body),
      state: 'accepted',
      until: '1765100030000',
      type: 'wallet.credit',
      status: 'rejected',
      code: 'account_not_found',
      result: '{"balance":0,"available":0}',
      ingestedAt: '1765100000000',
      appliedAt: '1765100000042',
      'conflict:OtherDigestOtherDigest1': 'wallet.credit 1765100000500',
    });
    await p.redis.pexpire(statusKey(stored(id)), windowMs);
    expect((await p.get(`/v1/transactions/${id}`)).body).toEqual({
      id,
      ...(p.namespace !== undefined ? { producer: p.namespace } : {}),
      type: 'wallet.credit',
      status: 'rejected',
      code: 'account_not_found',
      result: { balance: 0, available: 0 },
      ingestedAt: 1765100000000,
      appliedAt: 1765100000042,
      conflicts: [{ type: 'wallet.credit', ingestedAt: 1765100000500 }],
    });
    const again = await p.post(body, { 'Idempotency-Key': id });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await p.post({ ...body, amount: 8 }, { 'Idempotency-Key': id });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_mismatch' } });
  });

  it('a claim in flight answers 409; one whose ingest-api died is taken over and moves to the current fields', async () => {
    const account = uid('acct');
    await posted({ type: 'wallet.open', account });
    const body = { type: 'wallet.credit', account, amount: 9 };
    const busy = uid('old');
    await p.redis.hset(statusKey(stored(busy)), {
      digest: digest(busy, body),
      state: 'inflight',
      until: String(Date.now() + 60_000),
    });
    expect(await p.post(body, { 'Idempotency-Key': busy })).toMatchObject({
      status: 409,
      body: { code: 'idempotency_in_flight' },
    });
    expect(await p.post({ ...body, amount: 10 }, { 'Idempotency-Key': busy })).toMatchObject({
      status: 422,
      body: { code: 'idempotency_key_mismatch' },
    });

    const died = uid('old');
    await p.redis.hset(statusKey(stored(died)), { digest: digest(died, body), state: 'inflight', until: '1' });
    const taken = await p.post(body, { 'Idempotency-Key': died });
    expect(taken.status).toBe(202);
    expect(taken.headers.get('idempotent-replayed')).toBeNull();
    await waitForOutcomes(p, [died]);
    const h = await p.redis.hgetall(statusKey(stored(died)));
    expect(Object.keys(h).sort()).toEqual(['c', 'd', 'o', 'r'].concat(h.p ? ['p'] : []).sort());
    expect((await p.get(`/v1/transactions/${died}`)).body).toMatchObject({ status: 'applied', code: 'ok' });
  });

  it('a released claim of the layout before (its digest alone) still refuses another payload', async () => {
    const id = uid('old');
    const body = { type: 'wallet.credit', account: uid('acct'), amount: 3 };
    await p.redis.hset(statusKey(stored(id)), { digest: digest(id, body) });
    expect(await p.post({ ...body, amount: 4 }, { 'Idempotency-Key': id })).toMatchObject({
      status: 422,
      body: { code: 'idempotency_key_mismatch' },
    });
  });
});
