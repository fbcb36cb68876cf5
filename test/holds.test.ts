// Wallet holds (escrow): pending -> captured | voided | expired, each at most once, each refusal with its
// own code; and wallet.close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { startPipeline, uid, waitFor, type Pipeline } from './harness.ts';
import { apply, applyAll } from './domains.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ env: { TXPIPE_SWEEP_INTERVAL_MS: '200' } });
});
afterAll(async () => {
  await p?.stop();
});

const account = async (p: Pipeline, name: string) => (await p.get(`/v1/accounts/${name}`)).body;
const holdOf = async (p: Pipeline, name: string, hold: string) =>
  (await p.get(`/v1/accounts/${name}/holds/${hold}`)).body;

async function funded(amount: number) {
  const a = uid('acct');
  expect((await apply(p, { type: 'wallet.open', account: a })).code).toBe('ok');
  expect((await apply(p, { type: 'wallet.credit', account: a, amount })).code).toBe('ok');
  return a;
}

const hold = (a: string, amount: number, ttl = 60_000) => apply(p, { type: 'wallet.hold', account: a, amount, ttl });
const capture = (a: string, h: string, amount?: number) =>
  apply(p, { type: 'wallet.capture', account: a, hold: h, ...(amount && { amount }) });
const voidHold = (a: string, h: string) => apply(p, { type: 'wallet.void', account: a, hold: h });

describe('wallet holds', () => {
  it('a hold lowers available, not balance; a partial capture debits it and releases the rest', async () => {
    const a = await funded(1000);
    const h = await hold(a, 300);
    expect(h).toMatchObject({ status: 'applied', code: 'ok', result: { balance: 1000, available: 700 } });
    expect(await account(p, a)).toMatchObject({ balance: 1000, held: 300, available: 700 });
    expect(await hold(a, 701)).toMatchObject({ status: 'rejected', code: 'insufficient_funds' });
    const c = await capture(a, h.id, 120);
    expect(c).toMatchObject({ code: 'ok', result: { balance: 880, available: 880, captured: 120 } });
    expect(await account(p, a)).toMatchObject({ balance: 880, held: 0, available: 880 });
    expect(await holdOf(p, a, h.id)).toMatchObject({ hold: h.id, state: 'captured', amount: 300, captured: 120 });
  });

  it('capture after void, void after capture, a second capture, capture above the held amount: each its own code', async () => {
    const a = await funded(1000);
    const [h1, h2, h3] = await applyAll(
      p,
      [1, 2, 3].map((n) => ({ type: 'wallet.hold', account: a, amount: 100 * n, ttl: 60_000 })),
    );
    expect([h1!.code, h2!.code, h3!.code]).toEqual(['ok', 'ok', 'ok']);

    expect(await voidHold(a, h1!.id)).toMatchObject({ code: 'ok', result: { balance: 1000, available: 500 } });
    expect(await capture(a, h1!.id)).toMatchObject({ status: 'rejected', code: 'hold_voided' });
    expect(await voidHold(a, h1!.id)).toMatchObject({ status: 'rejected', code: 'hold_voided' });

    expect(await capture(a, h2!.id)).toMatchObject({ code: 'ok', result: { balance: 800, captured: 200 } });
    expect(await voidHold(a, h2!.id)).toMatchObject({ status: 'rejected', code: 'hold_captured' });
    expect(await capture(a, h2!.id)).toMatchObject({ status: 'rejected', code: 'hold_captured' });

    expect(await capture(a, h3!.id, 301)).toMatchObject({ status: 'rejected', code: 'amount_exceeds_hold' });
    // Refused without effect: the hold is still pending and can be captured within its amount.
    expect(await account(p, a)).toMatchObject({ balance: 800, held: 300, available: 500 });
    expect(await capture(a, h3!.id, 300)).toMatchObject({ code: 'ok', result: { balance: 500, available: 500 } });
    expect(await account(p, a)).toMatchObject({ balance: 500, held: 0, available: 500 });
  });

  it('a hold past its ttl is expired by the sweeper; capture and void after expiry are rejected hold_expired', async () => {
    const a = await funded(1000);
    const h = await hold(a, 400, 1000);
    expect(h.code).toBe('ok');
    expect((await account(p, a)).available).toBe(600);
    const expired = await waitFor(
      'the sweeper to expire the hold',
      async () => {
        const s = await holdOf(p, a, h.id);
        return s.state === 'expired' && s;
      },
      15_000,
    );
    expect(expired).toMatchObject({ amount: 400 });
    expect(await account(p, a)).toMatchObject({ balance: 1000, held: 0, available: 1000 });
    expect(await capture(a, h.id)).toMatchObject({ status: 'rejected', code: 'hold_expired' });
    expect(await voidHold(a, h.id)).toMatchObject({ status: 'rejected', code: 'hold_expired' });
    expect(await account(p, a)).toMatchObject({ balance: 1000, held: 0 });
  });

  it('"now" is the message time: a capture stamped after the expiry is refused even before the sweeper runs', async () => {
    const a = await funded(1000);
    const h = await hold(a, 250, 3_600_000);
    const { expiresAt } = await holdOf(p, a, h.id);
    // Drive time through the log: the capture's Kafka timestamp is past the hold's expiry.
    const producer = p.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const id = uid('late');
    await producer.send({
      topic: p.topics.wallet,
      messages: [
        {
          key: a,
          value: JSON.stringify({ id, type: 'wallet.capture', account: a, hold: h.id }),
          timestamp: String(expiresAt),
        },
      ],
    });
    await producer.disconnect();
    const status = await waitFor(
      'the late capture',
      async () => {
        const s = await p.get(`/v1/transactions/${id}`);
        return s.body.status === 'rejected' && s.body;
      },
      30_000,
    );
    expect(status).toMatchObject({ code: 'hold_expired', result: { balance: 1000, available: 1000 } });
    expect(await holdOf(p, a, h.id)).toMatchObject({ state: 'expired' });
  });

  it('wallet.close: refused with a hold open or funds left; once closed, no credit, debit or hold applies', async () => {
    const a = await funded(100);
    const h = await hold(a, 100);
    expect(await apply(p, { type: 'wallet.close', account: a })).toMatchObject({
      status: 'rejected',
      code: 'holds_pending',
    });
    expect((await voidHold(a, h.id)).code).toBe('ok');
    expect(await apply(p, { type: 'wallet.close', account: a })).toMatchObject({
      status: 'rejected',
      code: 'balance_not_zero',
    });
    expect((await apply(p, { type: 'wallet.debit', account: a, amount: 100 })).code).toBe('ok');
    expect(await apply(p, { type: 'wallet.close', account: a })).toMatchObject({ status: 'applied', code: 'ok' });
    const after = await applyAll(p, [
      { type: 'wallet.credit', account: a, amount: 5 },
      { type: 'wallet.debit', account: a, amount: 5 },
      { type: 'wallet.hold', account: a, amount: 5, ttl: 60_000 },
      { type: 'wallet.close', account: a },
    ]);
    expect(after.map((o) => o.code)).toEqual(['account_closed', 'account_closed', 'account_closed', 'account_closed']);
    expect(await account(p, a)).toMatchObject({ status: 'closed', balance: 0 });
  });
});
