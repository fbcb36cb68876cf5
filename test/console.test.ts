// The live console in a real browser (Debian's chromium driven by playwright-core): seats held and then sold
// over HTTP show on the page as they happen, without a reload. Skipped, saying so, where chromium is missing.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';

const executable = ['chromium', 'chromium-browser']
  .map((bin) =>
    spawnSync('sh', ['-c', `command -v ${bin}`])
      .stdout?.toString()
      .trim(),
  )
  .find(Boolean);
if (!executable)
  console.warn(
    'chromium is not installed (apt-get install chromium; .ci/run installs it): test/console.test.ts skipped',
  );

const outputDir = new URL('../.test-output/console/', import.meta.url).pathname;

let p: Pipeline;
let browser: Browser;
beforeAll(async () => {
  if (!executable) return;
  p = await startPipeline();
  browser = await chromium.launch({
    executablePath: executable,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

async function apply(body: Record<string, unknown>) {
  const r = await p.post(body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  await waitForOutcomes(p, [r.body.id]);
  return r.body.id as string;
}

it.skipIf(!executable)('shows seats held, then sold, and the stock counts, live', async () => {
  const [event, sku] = [uid('gig'), uid('tee')];
  await apply({ type: 'seats.define', event, seats: ['A1', 'A2', 'A3', 'B1', 'B2', 'B3'] });
  await apply({ type: 'stock.set', sku, quantity: 100 });

  const page = await browser.newPage({ viewport: { width: 1100, height: 600 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The key in the fragment, as a person opening the console would give it (never sent in a URL to a server).
  const key = p.auth.authorization!.replace(/^Bearer /, '');
  await page.goto(`${p.ingestUrl}/console?event=${event}&sku=${sku}#key=${key}`);
  const seat = (s: string, state: string) => page.locator(`[data-seat="${s}"][data-state="${state}"]`);
  await seat('A1', 'free').waitFor({ timeout: 15_000 });
  await page.locator('[data-stock="available"][data-value="100"]').waitFor({ timeout: 15_000 });
  await page.locator('#outcomes-status', { hasText: 'live' }).waitFor({ timeout: 15_000 });

  const hold = await apply({ type: 'seats.hold', event, seats: ['A1', 'A2'], holder: 'carol', ttl: 60_000 });
  await seat('A1', 'held').waitFor({ timeout: 15_000 });
  await seat('A2', 'held').waitFor({ timeout: 15_000 });
  expect(await seat('A3', 'free').count()).toBe(1);
  await page.locator(`#outcomes [data-id="${hold}"]`).waitFor({ timeout: 15_000 });

  await apply({ type: 'seats.confirm', event, hold });
  await apply({ type: 'stock.reserve', sku, quantity: 2, customer: 'bob', ttl: 60_000 });
  await seat('A1', 'sold').waitFor({ timeout: 15_000 });
  await seat('A2', 'sold').waitFor({ timeout: 15_000 });
  await page.locator('[data-stock="available"][data-value="98"]').waitFor({ timeout: 15_000 });
  await page.locator('[data-count="sold"]', { hasText: 'sold: 2' }).waitFor({ timeout: 15_000 });

  mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: `${outputDir}console.png`, fullPage: true });
  expect(errors).toEqual([]);
});
