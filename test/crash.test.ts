// The processor SIGKILLed in the middle of 10,000 transactions and started again: every accepted
// transaction takes effect exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pipeline, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { statusKey } from '../common/keys.ts';
import { statusField } from '../common/status.ts';

let p: Pipeline;
// Small fetches: the backlog drains as many sequential batches, so a kill lands in the middle of it.
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_FETCH_MAX_BYTES: '8192' } });
});
afterAll(async () => {
  await p?.stop();
});

const TOTAL = 10_000;
const ACCOUNTS = 20;
const START = 1_000_000;

it('SIGKILL mid-run: count and sum of balances match what was accepted', async () => {
  const accounts = Array.from({ length: ACCOUNTS }, () => uid('crash'));
  const setup = [];
  for (const account of accounts) {
    setup.push(
      (await p.post({ type: 'wallet.open', account })).body.id,
      (await p.post({ type: 'wallet.credit', account, amount: START })).body.id,
    );
  }
  await waitForOutcomes(p, setup);

  // Debits are small enough never to be refused, so the expected balances follow from what was accepted.
  const expected = new Map(accounts.map((a) => [a, START]));
  const accepted: string[] = [];
  const send = async (i: number) => {
    const account = accounts[i % ACCOUNTS]!;
    const credit = i % 3 === 0;
    const amount = 1 + (i % 97);
    const r = await p.post({ type: credit ? 'wallet.credit' : 'wallet.debit', account, amount });
    expect(r.status).toBe(202);
    accepted.push(r.body.id);
    expected.set(account, expected.get(account)! + (credit ? amount : -amount));
  };
  const CONCURRENCY = 50;
  let firstKill = -1;
  let secondKill = -1;
  for (let i = 0; i < TOTAL; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, TOTAL - i) }, (_, j) => send(i + j)));
    if (firstKill < 0 && i >= TOTAL * 0.1) {
      // Kill 1 while ingest is busy; the processor stays down while a backlog builds up in Kafka.
      await p.processor.stop('SIGKILL');
      firstKill = (await countOutcomes(accepted)).done;
    }
    if (secondKill < 0 && i >= TOTAL * 0.9) {
      // Kill 2 as soon as the restarted processor has applied some of that backlog: batches are in flight.
      // (Its message counter is no sign of that: redelivered messages meeting their flags count there too.)
      await p.processor.start();
      await waitFor(
        'the processor to get going',
        async () => (await countOutcomes(accepted)).done > firstKill,
        60_000,
        5,
      );
      await p.processor.stop('SIGKILL');
      secondKill = (await countOutcomes(accepted)).done;
      expect(secondKill, 'killed with work outstanding').toBeLessThan(accepted.length);
      await p.processor.start();
    }
  }
  expect(accepted).toHaveLength(TOTAL);
  expect(firstKill).toBeGreaterThan(0);
  expect(secondKill).toBeGreaterThan(firstKill);

  const outcomes = await waitForOutcomes(p, accepted, 180_000);
  expect([...outcomes.values()].every((o) => o.status === 'applied' && o.code === 'ok')).toBe(true);
  let sum = 0;
  for (const a of accounts) {
    const { body } = await p.get(`/v1/accounts/${a}`);
    expect(body.balance, a).toBe(expected.get(a));
    sum += body.balance;
  }
  expect(sum).toBe([...expected.values()].reduce((x, y) => x + y, 0));
});

async function countOutcomes(ids: string[]) {
  const pipe = pipeline(p.redis);
  for (const id of ids) pipe.hexists(statusKey(id), statusField.outcome);
  const replies = (await pipe.exec()) ?? [];
  return { done: replies.filter(([, v]) => v === 1).length };
}
