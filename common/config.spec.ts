// The retention settings: each kind of record has its own, and the flags never expire before the window.
import { expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const day = 24 * 3600 * 1000;

it('defaults: a day for the claim, the status record and the history, 2 days for the flags', () => {
  expect(loadConfig({}).retention).toEqual({ idempotencyWindowMs: day, flagMs: 2 * day, historyMs: day });
});

it('each retention is set on its own', () => {
  const { retention } = loadConfig({
    TXPIPE_IDEMPOTENCY_WINDOW_MS: String(2 * day),
    TXPIPE_FLAG_RETENTION_MS: String(3 * day),
    TXPIPE_HISTORY_RETENTION_MS: String(day / 2),
  });
  expect(retention).toEqual({ idempotencyWindowMs: 2 * day, flagMs: 3 * day, historyMs: day / 2 });
});

it('a flag retention shorter than a day, with no window set, shortens the window to it', () => {
  expect(loadConfig({ TXPIPE_FLAG_RETENTION_MS: '4000' }).retention).toEqual({
    idempotencyWindowMs: 4000,
    flagMs: 4000,
    historyMs: 4000,
  });
});

it('refuses a flag retention shorter than the idempotency window, naming both', () => {
  expect(() =>
    loadConfig({ TXPIPE_IDEMPOTENCY_WINDOW_MS: String(2 * day), TXPIPE_FLAG_RETENTION_MS: String(day) }),
  ).toThrow(/TXPIPE_FLAG_RETENTION_MS \(86400000\) is shorter than TXPIPE_IDEMPOTENCY_WINDOW_MS \(172800000\)/);
});

it('the sizing rate defaults to 2,000 transactions a second', () => {
  expect(loadConfig({}).sizingTxPerSec).toBe(2000);
  expect(loadConfig({ TXPIPE_SIZING_TX_PER_SEC: '500' }).sizingTxPerSec).toBe(500);
});
