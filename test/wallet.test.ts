// The wallet slice end to end: HTTP -> Kafka -> processor -> Lua -> Redis, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p?.stop();
});

async function openAccount(account: string, credit = 0) {
  const open = await p.post({ type: 'wallet.open', account });
  expect(open.status).toBe(202);
  const ids = [open.body.id];
  if (credit) {
    const c = await p.post({ type: 'wallet.credit', account, amount: credit });
    expect(c.status).toBe(202);
    ids.push(c.body.id);
  }
  await waitForOutcomes(p, ids);
}

describe('wallet', () => {
  it('walk-through: open, credit, debit, read the status, read the balance', async () => {
    const account = uid('alice');
    const open = await p.post({ type: 'wallet.open', account });
    expect(open).toMatchObject({ status: 202, body: { status: 'accepted' } });
    expect(open.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await p.post({ type: 'wallet.credit', account, amount: 1000 })).status).toBe(202);
    const debitId = uid('order');
    const debit = await p.post({ type: 'wallet.debit', account, amount: 250 }, { 'Idempotency-Key': debitId });
    expect(debit.body).toEqual({ id: debitId, status: 'accepted' });

    const outcome = (await waitForOutcomes(p, [debitId])).get(debitId)!;
    expect(outcome.status).toBe('applied');
    const status = await p.get(`/v1/transactions/${debitId}`);
    expect(status.body).toMatchObject({
      id: debitId,
      type: 'wallet.debit',
      status: 'applied',
      code: 'ok',
      result: { balance: 750, available: 750 },
    });
    expect(await p.get(`/v1/accounts/${account}`)).toMatchObject({
      status: 200,
      body: { balance: 750, available: 750, held: 0 },
    });
    expect((await p.get(`/v1/accounts/${uid('nobody')}`)).status).toBe(404);
    expect((await p.get(`/v1/transactions/${uid('never')}`)).status).toBe(404);
  });

  it('500 concurrent debits of 1 against 100: exactly 100 applied, 400 insufficient_funds, balance 0', async () => {
    const account = uid('hot');
    await openAccount(account, 100);
    const replies = await Promise.all(
      Array.from({ length: 500 }, () => p.post({ type: 'wallet.debit', account, amount: 1 })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(500).fill(202));
    const outcomes = await waitForOutcomes(
      p,
      replies.map((r) => r.body.id),
    );
    const codes = [...outcomes.values()].map((o) => o.code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(100);
    expect(codes.filter((c) => c === 'insufficient_funds')).toHaveLength(400);
    expect((await p.get(`/v1/accounts/${account}`)).body).toMatchObject({ balance: 0, available: 0 });
  });

  it('one Idempotency-Key posted 10 times has one effect; the same key with another amount is a conflict', async () => {
    const account = uid('idem');
    await openAccount(account, 100);
    const key = uid('pay');
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        p.post({ type: 'wallet.debit', account, amount: 7 }, { 'Idempotency-Key': key }),
      ),
    );
    // Concurrent duplicates: the first is accepted, the others are either replays (202) or told it is in flight (409).
    for (const r of replies) expect([202, 409]).toContain(r.status);
    expect(replies.filter((r) => r.status === 202).length).toBeGreaterThanOrEqual(1);
    await waitForOutcomes(p, [key]);
    // Sequential re-sends after acceptance are replays.
    for (let i = 0; i < 3; i++) {
      const again = await p.post({ type: 'wallet.debit', account, amount: 7 }, { 'Idempotency-Key': key });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    const conflict = await p.post({ type: 'wallet.debit', account, amount: 8 }, { 'Idempotency-Key': key });
    expect(conflict).toMatchObject({ status: 422, body: { code: 'idempotency_key_mismatch', field: 'id' } });
    expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(93);
  });

  it('the same id with another payload published straight to Kafka is rejected as a conflict by the processor', async () => {
    const account = uid('direct');
    await openAccount(account, 100);
    const id = uid('dup');
    const producer = p.kafka.producer();
    await producer.connect();
    const send = (amount: number) =>
      producer.send({
        topic: p.topics.wallet,
        acks: -1,
        messages: [{ key: account, value: JSON.stringify({ id, type: 'wallet.debit', account, amount }) }],
      });
    await send(10);
    await send(11);
    const last = uid('after');
    await producer.send({
      topic: p.topics.wallet,
      acks: -1,
      messages: [{ key: account, value: JSON.stringify({ id: last, type: 'wallet.debit', account, amount: 1 }) }],
    });
    await producer.disconnect();
    await waitForOutcomes(p, [id, last]);
    expect((await p.get(`/v1/transactions/${id}`)).body).toMatchObject({
      status: 'applied',
      code: 'ok',
      result: { balance: 90 },
    });
    expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(89);
  });

  it('a message re-published byte for byte (redelivery) is applied once', async () => {
    const account = uid('redeliver');
    await openAccount(account, 100);
    const id = uid('once');
    const value = Buffer.from(JSON.stringify({ id, type: 'wallet.debit', account, amount: 30 }));
    const producer = p.kafka.producer();
    await producer.connect();
    for (let i = 0; i < 5; i++)
      await producer.send({ topic: p.topics.wallet, acks: -1, messages: [{ key: account, value }] });
    const marker = uid('marker');
    await producer.send({
      topic: p.topics.wallet,
      acks: -1,
      messages: [{ key: account, value: JSON.stringify({ id: marker, type: 'wallet.credit', account, amount: 1 }) }],
    });
    await producer.disconnect();
    await waitForOutcomes(p, [id, marker]);
    expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(71);
  });
});
