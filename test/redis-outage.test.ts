// Redis goes away mid-run: ingest keeps accepting into Kafka, the processor pauses and retries without
// committing, and once Redis is back every accepted transaction is applied exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { startRedis, type RedisServer } from '../stack/redis.ts';
import { sleep, startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';

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
  await sleep(2000); // the processor meets the outage and retries
  const retries = await fetch(p.processor.readyUrl.replace('/readyz', '/metrics')).then((r) => r.text());
  expect(Number(/^txpipe_processor_redis_retries_total(?:\{[^}]*\})? (\d+)/m.exec(retries)?.[1] ?? 0)).toBeGreaterThan(0);

  redis = await startRedis({ dir, port });
  const ids = [...before, ...during].map((r) => r.body.id);
  await waitForOutcomes(p, ids);
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(600);
});
