// ?wait=: a producer gets the outcome in the answer, without polling. The processor announces outcomes on
// one pub/sub channel; each ingest-api subscribes once and wakes its waiting requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../common/limits.ts';
import { masters } from '../common/redis.ts';
import { Service, startAnother, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
let second: Service;
let secondUrl: string;
beforeAll(async () => {
  // The processor starts later: until then every transaction stays pending.
  p = await startPipeline({ processor: false });
  ({ service: second, url: secondUrl } = await startAnother(p, 'ingest-api'));
});
afterAll(async () => {
  await second?.stop();
  await p?.stop();
});

const post = async (url: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...p.auth, ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
};
const get = async (url: string, path: string, signal?: AbortSignal) => {
  const r = await fetch(`${url}${path}`, { signal, headers: p.auth });
  return { status: r.status, body: await r.json() };
};
/** HGETALLs Redis has run, on every master (a cluster client's INFO asks one node at random). */
const hgetallCalls = async () => {
  const perNode = await Promise.all(
    masters(p.redis).map(async ({ node }) =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await node.info('commandstats'))?.[1] ?? 0),
    ),
  );
  return perNode.reduce((sum, n) => sum + n, 0);
};
const waiters = async (url: string) =>
  Number(/^txpipe_ingest_outcome_waiters\{[^}]*\} (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

describe('?wait= before the processor runs', () => {
  it('a wait that runs out answers pending (GET) or 202 (POST), and reads Redis twice, never polls', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await p.post({ type: 'wallet.open', account: uid('w') })).body.id);
    const before = await hgetallCalls();
    const started = Date.now();
    const answers = await Promise.all(ids.map((id) => get(p.ingestUrl, `/v1/transactions/${id}?wait=1500`)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(answers.map((a) => a.body.status)).toEqual(ids.map(() => 'pending'));
    // Each request reads its record when it starts waiting and when its time runs out: 2 reads, however long.
    expect((await hgetallCalls()) - before).toBeLessThanOrEqual(2 * ids.length + 5);

    const t0 = Date.now();
    const accepted = await post(p.ingestUrl, '/v1/transactions?wait=800', { type: 'wallet.open', account: uid('w') });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'accepted' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(await waiters(p.ingestUrl)).toBe(0);
  });

  it('a bad wait is refused 400 naming it, and nothing is published', async () => {
    const id = uid('bad-wait');
    for (const wait of ['abc', '-1', '1.5', String(limits.maxWaitMs + 1)]) {
      const r = await post(p.ingestUrl, `/v1/transactions?wait=${wait}`, {
        id,
        type: 'wallet.open',
        account: uid('w'),
      });
      expect(r.status, wait).toBe(400);
      expect(r.body.field).toBe('wait');
    }
    expect((await get(p.ingestUrl, `/v1/transactions/${id}?wait=x`)).body).toMatchObject({ field: 'wait' });
    expect((await p.get(`/v1/transactions/${id}`)).status).toBe(404);
  });

  it('a client that leaves mid-wait leaves no waiter behind', async () => {
    const { body } = await p.post({ type: 'wallet.open', account: uid('w') });
    const gone = new AbortController();
    const request = get(p.ingestUrl, `/v1/transactions/${body.id}?wait=20000`, gone.signal).catch((e: Error) => e);
    await waitFor('the request to wait', async () => (await waiters(p.ingestUrl)) === 1, 5000, 20);
    gone.abort();
    expect(await request).toBeInstanceOf(Error);
    await waitFor('its waiter to go', async () => (await waiters(p.ingestUrl)) === 0, 2000, 20);
  });
});

describe('?wait= with the processor', () => {
  it('wakes waiters on every ingest-api instance as soon as the outcome is recorded', async () => {
    const account = uid('acct');
    const open = await p.post({ type: 'wallet.open', account });
    // Waiting on the other instance than the one that accepted it, before anything can decide it.
    const started = Date.now();
    const onSecond = get(secondUrl, `/v1/transactions/${open.body.id}?wait=25000`);
    const onFirst = get(p.ingestUrl, `/v1/transactions/${open.body.id}?wait=25000`);
    await waitFor(
      'both to wait',
      async () => (await waiters(secondUrl)) === 1 && (await waiters(p.ingestUrl)) === 1,
      5000,
      20,
    );
    await p.processor.start();
    const [a, b] = await Promise.all([onSecond, onFirst]);
    expect(a.body).toMatchObject({ id: open.body.id, status: 'applied', code: 'ok' });
    expect(b.body).toEqual(a.body);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('POST ?wait= answers 200 with the outcome, applied or rejected; a replay too', async () => {
    const account = uid('acct');
    const opened = await post(p.ingestUrl, '/v1/transactions?wait=10000', { type: 'wallet.open', account });
    expect(opened).toMatchObject({ status: 200, body: { status: 'applied', type: 'wallet.open' } });
    const credit = await post(secondUrl, '/v1/transactions?wait=10000', {
      type: 'wallet.credit',
      account,
      amount: 500,
    });
    expect(credit.body).toMatchObject({ status: 'applied', result: { balance: 500, available: 500 } });
    const id = uid('debit');
    const debit = await post(p.ingestUrl, '/v1/transactions?wait=10000', {
      id,
      type: 'wallet.debit',
      account,
      amount: 900,
    });
    expect(debit).toMatchObject({ status: 200, body: { id, status: 'rejected', code: 'insufficient_funds' } });
    const replay = await post(p.ingestUrl, '/v1/transactions?wait=10000', {
      id,
      type: 'wallet.debit',
      account,
      amount: 900,
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(debit.body);
    await waitForOutcomes(p, [id]);
    expect(await waiters(p.ingestUrl)).toBe(0);
    expect(await waiters(secondUrl)).toBe(0);
  });
});
