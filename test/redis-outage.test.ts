// Redis goes away mid-run: ingest keeps accepting into Kafka, the processor pauses and retries without
// committing, and once Redis is back every accepted transaction is applied exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { startRedis, type RedisServer } from '../stack/redis.ts';
import { sleep, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
let redis: RedisServer;
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'txpipe-outage-'));
  port = await freePort();
  redis = await startRedis({ dir, port });
  p = await startPipeline({ env: { TXPIPE_REDIS_URL: redis.url } });
});
afterAll(async () => {
  await p?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('accepts while Redis is down and applies everything once it returns', async () => {
  const account = uid('outage');
  const setup = [(await p.post({ type: 'wallet.open', account })).body.id];
  await waitForOutcomes(p, setup);
  const credit = () => p.post({ type: 'wallet.credit', account, amount: 3 });

  const before = await Promise.all(Array.from({ length: 100 }, credit));
  await redis.stop();
  const during = await Promise.all(Array.from({ length: 100 }, credit));
  expect(during.map((r) => r.status)).toEqual(Array(100).fill(202));
  // Reads cannot be answered meanwhile: a 503 to retry, never a 500.
  for (const path of [
    `/v1/accounts/${account}`,
    `/v1/transactions/${during[0]!.body.id}`,
    '/v1/stock/s1',
    '/v1/events/e1/seats',
    `/v1/accounts/${account}/holds/h1`,
  ]) {
    const r = await fetch(`${p.ingestUrl}${path}`, { headers: p.auth });
    expect([path, r.status, r.headers.get('retry-after'), ((await r.json()) as { code: string }).code]).toEqual([
      path,
      503,
      '1',
      'redis_unavailable',
    ]);
  }
  await sleep(2000); // the processor meets the outage and retries
  const retries = await fetch(p.processor.readyUrl.replace('/readyz', '/metrics')).then((r) => r.text());
  expect(Number(/^txpipe_processor_redis_retries_total(?:\{[^}]*\})? (\d+)/m.exec(retries)?.[1] ?? 0)).toBeGreaterThan(
    0,
  );

  redis = await startRedis({ dir, port });
  const ids = [...before, ...during].map((r) => r.body.id);
  await waitForOutcomes(p, ids);
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(600);
});

it('while Redis is down a reused id is accepted unchecked, and its dropped payload shows on the id', async () => {
  const account = uid('unchecked');
  await waitForOutcomes(p, [(await p.post({ type: 'wallet.open', account })).body.id]);
  const id = uid('reused');
  await redis.stop();
  const first = await p.post({ id, type: 'wallet.credit', account, amount: 5 });
  const second = await p.post({ id, type: 'wallet.credit', account, amount: 7 });
  // Both 202 (the id could not be checked), and both say so.
  expect([first.status, second.status]).toEqual([202, 202]);
  expect(first.body).toEqual({ id, status: 'accepted', idempotency: 'unchecked' });
  expect(second.body).toEqual({ id, status: 'accepted', idempotency: 'unchecked' });
  redis = await startRedis({ dir, port });

  // The first payload is applied once; the second is listed on the id as dropped, not silently lost.
  await waitFor(
    'the conflict recorded',
    async () => (await p.get(`/v1/transactions/${id}`)).body?.conflicts?.length === 1,
  );
  const status = (await p.get(`/v1/transactions/${id}`)).body;
  expect(status).toMatchObject({
    status: 'applied',
    code: 'ok',
    result: { balance: 5 },
    conflicts: [{ type: 'wallet.credit' }],
  });
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(5);
  // Checked again once Redis is back: the same payload replays, another is refused 422.
  expect((await p.post({ id, type: 'wallet.credit', account, amount: 5 })).status).toBe(202);
  expect((await p.post({ id, type: 'wallet.credit', account, amount: 9 })).status).toBe(422);
});
