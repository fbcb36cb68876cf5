// 2,000 transfers among 50 accounts on 6 partitions, the processor SIGKILLed twice mid-run: money is
// never lost or doubled (also while in flight), no account goes below its limit, each transfer once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { entityKey, flagKey, statusKey } from '../common/keys.ts';
import { statusField } from '../common/status.ts';
import { pipeline, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { applyAll, postBatch } from './domains.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ partitions: 6 });
});
afterAll(async () => {
  await p?.stop();
});

const ACCOUNTS = 50,
  TRANSFERS = 2000,
  START = 1000,
  CHUNK = 100,
  SEED = 424242;

interface Transfer {
  id: string;
  from: string;
  to: string;
  amount: number;
}

function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** Each step's idempotency flag: the ground truth of which steps ran ("digest code ints..."). */
async function steps(ts: Transfer[]) {
  const pipe = pipeline(p.redis);
  for (const t of ts) {
    pipe
      .get(flagKey('wallet', t.from, t.id, 'debit'))
      .get(flagKey('wallet', t.to, t.id, 'credit', t.from))
      .get(flagKey('wallet', t.from, t.id, 'settle'))
      .get(flagKey('wallet', t.from, t.id, 'refund'));
  }
  const codes = ((await pipe.exec()) ?? []).map(([, v]) => (v ? String(v).split(' ')[1] : undefined));
  return ts.map((t, i) => {
    const [debit, credit, settle, refund] = codes.slice(4 * i, 4 * i + 4);
    return { t, debit, credit, settle, refund };
  });
}

async function accounts(names: string[]) {
  const pipe = pipeline(p.redis);
  for (const a of names) pipe.hgetall(entityKey('wallet', a));
  const rows = ((await pipe.exec()) ?? []).map(([, h]) => h as Record<string, string>);
  return new Map(
    names.map((a, i) => [
      a,
      {
        balance: Number(rows[i]!.balance),
        outgoing: Number(rows[i]!.outgoing),
        held: Number(rows[i]!.held),
        overdraft: Number(rows[i]!.overdraft),
      },
    ]),
  );
}

/**
 * With the processor dead, Redis is frozen: every transfer's steps are readable from its flags. Money is
 * in balances or in flight (debited, neither credited nor refunded), never both, never neither; each
 * source shows what it has in flight as outgoing; a transfer not past its last step is still pending.
 */
async function checkFrozen(names: string[], sent: Transfer[]) {
  const state = await accounts(names);
  const s = await steps(sent);
  const inFlight = s.filter((x) => x.debit === 'ok' && x.credit !== 'ok' && !x.refund);
  const sum = [...state.values()].reduce((acc, a) => acc + a.balance, 0);
  expect(sum + inFlight.reduce((acc, x) => acc + x.t.amount, 0), 'balances + in flight').toBe(ACCOUNTS * START);
  const outgoing = new Map(names.map((a) => [a, 0]));
  for (const x of s)
    if (x.debit === 'ok' && !x.settle && !x.refund) outgoing.set(x.t.from, outgoing.get(x.t.from)! + x.t.amount);
  for (const a of names) expect(state.get(a)!.outgoing, `outgoing of ${a}`).toBe(outgoing.get(a));

  const undecided = s.filter((x) => x.debit === 'ok' && !x.settle && !x.refund).map((x) => x.t.id);
  const pipe = pipeline(p.redis);
  for (const id of undecided) pipe.hget(statusKey(id), statusField.outcome);
  const statuses = ((await pipe.exec()) ?? []).map(([, v]) => v);
  expect(
    statuses.filter((v) => v !== null),
    'a transfer before its last step is pending',
  ).toEqual([]);
  return { inFlight: inFlight.length, undecided: undecided.length };
}

it('2,000 transfers, 50 accounts, 6 partitions, 2 SIGKILLs: sums, limits and exactly-once hold', async () => {
  const next = random(SEED);
  const names = Array.from({ length: ACCOUNTS }, (_, i) => uid(`acct${i}`));
  const overdraft = (i: number) => (i % 5 === 0 ? 300 : 0);
  const closed = uid('closed');
  const ghosts = [uid('ghost'), uid('ghost')];

  const opened = await applyAll(p, [
    ...names.map((account, i) => ({ type: 'wallet.open', account, overdraft: overdraft(i) })),
    { type: 'wallet.open', account: closed },
  ]);
  expect(opened.every((o) => o.code === 'ok')).toBe(true);
  const funded = await applyAll(p, [
    ...names.map((account) => ({ type: 'wallet.credit', account, amount: START })),
    { type: 'wallet.close', account: closed },
  ]);
  expect(funded.every((o) => o.code === 'ok')).toBe(true);

  // Most transfers go between the 50 accounts; 1 in 20 to a closed or missing account (credit fails: refund).
  const transfers: Transfer[] = Array.from({ length: TRANSFERS }, (_, i) => {
    const from = names[Math.floor(next() * ACCOUNTS)]!;
    const r = next();
    let to = r < 0.03 ? ghosts[i % 2]! : r < 0.05 ? closed : names[Math.floor(next() * ACCOUNTS)]!;
    if (to === from) to = names[(names.indexOf(from) + 1) % ACCOUNTS]!;
    return { id: uid(`tr${i}`), from, to, amount: 1 + Math.floor(next() * 400) };
  });
  const sent: Transfer[] = [];
  const send = async (chunk: Transfer[]) => {
    const r = await postBatch(
      p,
      chunk.map((t) => ({ type: 'wallet.transfer', ...t })),
    );
    expect(r.status).toBe(200);
    expect(r.body.results.filter((x: { status: string }) => x.status !== 'accepted')).toEqual([]);
    sent.push(...chunk);
  };
  const decided = async () => {
    const pipe = pipeline(p.redis);
    for (const t of sent) pipe.hexists(statusKey(t.id), statusField.outcome);
    return ((await pipe.exec()) ?? []).filter(([, v]) => v === 1).length;
  };

  const chunks = Array.from({ length: TRANSFERS / CHUNK }, (_, i) => transfers.slice(i * CHUNK, (i + 1) * CHUNK));
  const frozen = [];
  for (const [i, chunk] of chunks.entries()) {
    await send(chunk);
    if (i === 5) {
      // Kill 1 while work is flowing; ingest keeps accepting into Kafka meanwhile.
      await waitFor('the processor to get going', async () => (await decided()) > 200);
      await p.processor.stop('SIGKILL');
      frozen.push(await checkFrozen(names, sent));
    }
    if (i === 9) await p.processor.start();
    if (i === 13) {
      // Kill 2 in the middle of draining the backlog.
      const before = await decided();
      await waitFor('the processor to drain some backlog', async () => (await decided()) > before + 100);
      await p.processor.stop('SIGKILL');
      frozen.push(await checkFrozen(names, sent));
      await p.processor.start();
    }
  }
  expect(sent).toHaveLength(TRANSFERS);
  expect(
    frozen.some((f) => f.inFlight > 0),
    `killed with money in flight: ${JSON.stringify(frozen)}`,
  ).toBe(true);

  const outcomes = await waitForOutcomes(
    p,
    transfers.map((t) => t.id),
    180_000,
  );
  const codes = transfers.map((t) => outcomes.get(t.id)!.code);
  expect(transfers.every((t) => outcomes.get(t.id)!.type === 'wallet.transfer')).toBe(true);
  expect(new Set(codes)).toEqual(new Set(['ok', 'insufficient_funds', 'account_not_found', 'account_closed']));
  transfers.forEach((t, i) => {
    if (ghosts.includes(t.to)) expect(codes[i]).not.toBe('ok');
    if (t.to === closed) expect(codes[i]).not.toBe('ok');
  });

  // Exactly once: each account's balance is its credit plus what applied transfers brought, minus what they took.
  const expected = new Map(names.map((a) => [a, START]));
  transfers.forEach((t, i) => {
    if (codes[i] !== 'ok') return;
    expected.set(t.from, expected.get(t.from)! - t.amount);
    expected.set(t.to, expected.get(t.to)! + t.amount);
  });
  const state = await accounts(names);
  names.forEach((a, i) => {
    const s = state.get(a)!;
    expect(s.balance, a).toBe(expected.get(a));
    expect(s.balance, `${a} below its limit`).toBeGreaterThanOrEqual(-overdraft(i));
    expect([s.outgoing, s.held], `${a} has nothing in flight`).toEqual([0, 0]);
  });
  expect([...state.values()].reduce((acc, s) => acc + s.balance, 0)).toBe(ACCOUNTS * START);
  expect((await p.get(`/v1/accounts/${closed}`)).body).toMatchObject({ status: 'closed', balance: 0 });
  expect((await p.get(`/v1/accounts/${ghosts[0]}`)).status).toBe(404);

  // And the flags agree step by step: ok = debit, credit, settle; refused credit = debit, refund.
  const s = await steps(transfers);
  s.forEach((x, i) => {
    const chain = [x.debit, x.credit, x.settle, x.refund];
    if (codes[i] === 'ok') expect(chain).toEqual(['ok', 'ok', 'ok', undefined]);
    else if (codes[i] === 'insufficient_funds')
      expect(chain).toEqual(['insufficient_funds', undefined, undefined, undefined]);
    else expect(chain).toEqual(['ok', codes[i], undefined, 'ok']);
  });
}, 240_000);
