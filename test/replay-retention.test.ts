// Redis loses writes whose messages are older than the idempotency flags' retention: replaying them could
// apply twice whatever had kept its effect but lost its flag, so the processor refuses the partition
// instead (readiness down, a gauge, an error log), applies nothing more there, and leaves Redis as it is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { committedToEnd } from '../ops/committed.ts';
import { freePort } from '../stack/ports.ts';
import { copyAof, rollBackAof, startRedis, type RedisServer } from '../stack/redis.ts';
import { applyAll } from './domains.ts';
import { sleep, startPipeline, uid, waitFor, type Pipeline } from './harness.ts';

const retentionMs = 4000;
let p: Pipeline;
let redis: RedisServer;
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'txpipe-retention-'));
  port = await freePort();
  redis = await startRedis({ dir, port });
  p = await startPipeline({
    partitions: 1,
    env: {
      TXPIPE_REDIS_URL: redis.url,
      TXPIPE_WATERMARK_CHECK_MS: '500',
      TXPIPE_FLAG_RETENTION_MS: String(retentionMs),
    },
  });
});
afterAll(async () => {
  await p?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const metric = async (name: string) => {
  const text = await fetch(p.processor.readyUrl.replace('/readyz', '/metrics')).then((r) => r.text());
  return Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm'))?.[1] ?? NaN);
};

it('a replay reaching past the flag retention is refused, not applied', async () => {
  const account = uid('ret');
  await applyAll(p, [{ type: 'wallet.open', account }]);
  await applyAll(p, [{ type: 'wallet.credit', account, amount: 100 }]);
  const copy = copyAof(redis, 'snapshot');

  const lost = await applyAll(
    p,
    Array.from({ length: 5 }, () => ({ type: 'wallet.credit', account, amount: 10 })),
  );
  expect(lost.every((o) => o.status === 'applied')).toBe(true);
  const admin = p.kafka.admin();
  await admin.connect();
  await waitFor(
    'offsets committed',
    () => committedToEnd(admin, `${p.prefix}-processor`, [p.topics.wallet]),
    60_000,
    200,
  );
  await admin.disconnect();
  expect(await metric('txpipe_processor_refused_partitions')).toBe(0);

  // The lost messages are now older than the retention: Redis forgets them.
  await sleep(retentionMs + 500);
  await rollBackAof(redis, copy);
  redis = await startRedis({ dir, port });

  await waitFor(
    'the partition refused',
    async () => (await metric('txpipe_processor_refused_partitions')) === 1,
    30_000,
    200,
  );
  expect((await fetch(p.processor.readyUrl)).status).toBe(503);
  // Nothing replayed, and nothing new applied on that partition while it is refused.
  const fresh = await p.post({ type: 'wallet.credit', account, amount: 1 });
  expect(fresh.status).toBe(202);
  await sleep(2000);
  expect((await p.get(`/v1/accounts/${account}`)).body).toMatchObject({ balance: 100 });
  expect((await p.get(`/v1/transactions/${fresh.body.id}`)).body).toMatchObject({ status: 'pending' });
  expect(p.processor.output).toMatch(/partition refused/);
});
