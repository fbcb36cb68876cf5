// The start-up check of Redis's maxmemory against the retention at the configured rate.
import { expect, it } from 'vitest';
import type { Retention } from '../common/config.ts';
import type { RedisClient } from '../common/redis.ts';
import { bytesPerTransaction, readMaxmemory, retainedBytes, sizingWarning, warnIfUndersized } from './sizing.ts';

const day = 24 * 3600 * 1000;
const retention: Retention = { idempotencyWindowMs: day, flagMs: 8 * day, historyMs: 8 * day };

it('bytes per transaction × rate × retention, per component', () => {
  const s = retainedBytes(retention, 2000);
  expect(s.statusRecords).toBe(bytesPerTransaction.statusRecord * 2000 * 86_400);
  expect(s.flags).toBe(bytesPerTransaction.flag * 2000 * 8 * 86_400);
  expect(s.history).toBe(bytesPerTransaction.historyEntry * 2000 * 8 * 86_400);
  expect(s.total).toBe(s.statusRecords + s.flags + s.history);
});

it('warns when maxmemory is set and smaller than what the windows hold, naming the numbers', () => {
  const need = retainedBytes(retention, 2000).total;
  const w = sizingWarning(need - 1, retention, 2000)!;
  expect(w.message).toMatch(/maxmemory .* cannot hold the configured retention at 2000 transactions a second/);
  expect(w.message).toMatch(/TXPIPE_IDEMPOTENCY_WINDOW_MS.*TXPIPE_FLAG_RETENTION_MS.*TXPIPE_HISTORY_RETENTION_MS/);
  expect(w.fields).toMatchObject({ maxmemory: need - 1, txPerSec: 2000, neededBytes: need });
});

it('is quiet when maxmemory holds it, is unset (0), or no rate is configured', () => {
  const need = retainedBytes(retention, 2000).total;
  expect(sizingWarning(need, retention, 2000)).toBeUndefined();
  expect(sizingWarning(0, retention, 2000)).toBeUndefined();
  expect(sizingWarning(1, retention, 0)).toBeUndefined();
});

/** A Redis that answers INFO memory with this maxmemory (the start-up check reads nothing else). */
const redisWith = (maxmemory: number) =>
  ({ info: async () => `# Memory\r\nused_memory:1000\r\nmaxmemory:${maxmemory}\r\n` }) as unknown as RedisClient;

function capture() {
  const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const none = () => {};
  const log = {
    debug: none,
    info: none,
    error: none,
    warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }),
  };
  return { lines, log };
}

it('reads maxmemory from INFO and logs one warn line when it is too small', async () => {
  expect(await readMaxmemory(redisWith(1 << 30))).toBe(1 << 30);
  const { lines, log } = capture();
  await warnIfUndersized(redisWith(1 << 30), retention, 2000, log);
  expect(lines).toHaveLength(1);
  expect(lines[0]!.fields).toMatchObject({ maxmemory: 1 << 30, txPerSec: 2000, flagRetentionMs: 8 * day });
  await warnIfUndersized(redisWith(0), retention, 2000, log);
  await warnIfUndersized(redisWith(2 ** 50), retention, 2000, log);
  expect(lines).toHaveLength(1);
});

it('says nothing when INFO cannot be read', async () => {
  const { lines, log } = capture();
  const failing = { info: async () => Promise.reject(new Error('NOPERM')) } as unknown as RedisClient;
  await warnIfUndersized(failing, retention, 2000, log);
  expect(lines).toHaveLength(0);
});
