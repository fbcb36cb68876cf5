// The group's committed offsets disagree with Redis: deleted (Kafka drops an empty group's offsets after
// a week) or reset to the earliest, while Redis keeps its state and the oldest flags have expired. The
// processor resumes where Redis stands (its watermarks) and applies nothing twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { startRedis, type RedisServer } from '../stack/redis.ts';
import { applyAll } from './domains.ts';
import { Service, sleep, startPipeline, uid, type Pipeline } from './harness.ts';
import { flagKey } from '../common/keys.ts';

let p: Pipeline;
const retentionMs = 2000;

beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_FLAG_RETENTION_MS: String(retentionMs) } });
});
afterAll(async () => {
  await p?.stop();
});

const groupId = () => `${p.prefix}-processor`;

async function balance(account: string): Promise<number> {
  return (await p.get(`/v1/accounts/${account}`)).body.balance;
}

it('offsets deleted, then reset to the earliest, with the flags expired: nothing is applied twice', async () => {
  const account = uid('off');
  await applyAll(p, [{ type: 'wallet.open', account }]);
  const credits = Array.from({ length: 30 }, (_, i) => ({ type: 'wallet.credit', account, amount: i + 1 }));
  await applyAll(p, credits);
  const sum = credits.reduce((n, c) => n + c.amount, 0);
  expect(await balance(account)).toBe(sum);
  // Committed, and the flags of every one of them gone (they outlive nothing here).
  await sleep(retentionMs + 1000);
  expect(await p.redis.keys(flagKey('wallet', account, '*'))).toEqual([]);

  const admin = p.kafka.admin();
  await admin.connect();
  try {
    let expected = sum;
    for (const damage of ['deleted', 'reset to earliest'] as const) {
      await p.processor.stop();
      if (damage === 'deleted') await admin.deleteGroups([groupId()]);
      else await admin.resetOffsets({ groupId: groupId(), topic: p.topics.wallet, earliest: true });
      await p.processor.start();
      const [after] = await applyAll(p, [{ type: 'wallet.credit', account, amount: 1000 }]);
      expect(after!.code, damage).toBe('ok');
      expected += 1000;
      await sleep(1000); // room for a wrong replay to show
      expect(await balance(account), `after the offsets were ${damage}`).toBe(expected);
    }
  } finally {
    await admin.disconnect();
  }
});

it('refuses to start against a Redis that may evict keys', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'txpipe-evict-'));
  let redis: RedisServer | undefined;
  try {
    redis = await startRedis({ dir, args: ['--maxmemory-policy', 'allkeys-lru'] });
    const port = await freePort();
    const env = { ...p.processor.env, TXPIPE_REDIS_URL: redis.url, TXPIPE_PROCESSOR_PORT: String(port) };
    const processor = new Service('processor', env, `http://127.0.0.1:${port}/readyz`);
    const started = processor.start().then(
      () => 'ready',
      (e: Error) => e.message,
    );
    await expect(started).resolves.toMatch(/exited[\s\S]*maxmemory-policy is allkeys-lru[\s\S]*noeviction/);
    await processor.stop();
  } finally {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
