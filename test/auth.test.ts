// API keys and scopes end to end: who may post what, who may read what, and producers' ids apart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopedId, statusKey } from '../common/keys.ts';
import { readStatus } from '../common/status.ts';
import { generateKey } from '../ingest-api/keys.ts';
import { readTopic, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { addKey, revoke, type TestKey } from './keys.ts';

let p: Pipeline;
let checkout: TestKey, shop: TestKey, tickets: TestKey, revoked: TestKey, auditor: TestKey, writer: TestKey;

beforeAll(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'auth-test-')), 'keys.json');
  checkout = addKey(file, { name: 'checkout', scope: 'wallet.*,stock.*,seats.*' });
  shop = addKey(file, { name: 'shop', scope: 'wallet.*' });
  tickets = addKey(file, { name: 'tickets', scope: 'seats.*', entityPrefix: 'gig-' });
  revoked = addKey(file, { name: 'old', scope: '*' });
  revoke(file, revoked.id);
  auditor = addKey(file, { name: 'auditor', scope: 'wallet.open', read: 'all' });
  writer = addKey(file, { name: 'writer', scope: 'wallet.*', read: 'none' });
  p = await startPipeline({ env: { TXPIPE_KEYS_FILE: file } });
});
afterAll(async () => {
  await p?.stop();
});

type Via = 'hot' | 'express';
const post = async (body: unknown, headers: Record<string, string>, via: Via = 'hot', path = '/v1/transactions') => {
  const r = await fetch(`${p.ingestUrl}${path}${via === 'express' ? '?via=express' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => undefined), headers: r.headers };
};
const get = async (path: string, headers: Record<string, string>) => {
  const r = await fetch(`${p.ingestUrl}${path}`, { headers });
  return { status: r.status, body: await r.json().catch(() => undefined), headers: r.headers };
};
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Waits for the outcome of a producer's transaction through the API, as its producer reads it. */
const outcome = (id: string, key: TestKey) =>
  waitFor(
    `outcome of ${id}`,
    async () => {
      const r = await get(`/v1/transactions/${id}`, key.headers);
      return r.status === 200 && r.body.status !== 'pending' && r.body;
    },
    30_000,
  );

describe('who may post', () => {
  const marker = uid('matrix');
  const cases: Array<
    [
      name: string,
      headers: () => Record<string, string>,
      body: () => object,
      status: number,
      code: string,
      field?: string,
    ]
  > = [
    ['no key', () => ({}), () => ({ type: 'wallet.open', account: `${marker}-1` }), 401, 'unauthenticated'],
    [
      'a malformed header',
      () => ({ authorization: 'Basic dXNlcjpwYXNz' }),
      () => ({ type: 'wallet.open', account: `${marker}-2` }),
      401,
      'unauthenticated',
    ],
    [
      'an unknown key',
      () => bearer(generateKey().key),
      () => ({ type: 'wallet.open', account: `${marker}-3` }),
      401,
      'unauthenticated',
    ],
    [
      'a revoked key',
      () => revoked.headers,
      () => ({ type: 'wallet.open', account: `${marker}-4` }),
      401,
      'unauthenticated',
    ],
    [
      'a type outside the scope',
      () => tickets.headers,
      () => ({ type: 'wallet.open', account: `${marker}-5` }),
      403,
      'forbidden',
      'type',
    ],
    [
      'an entity outside the prefix',
      () => tickets.headers,
      () => ({ type: 'seats.define', event: `${marker}-6`, seats: ['A1'] }),
      403,
      'forbidden',
      'event',
    ],
  ];

  for (const via of ['hot', 'express'] as const) {
    it.each(cases)(`${via}: %s -> refused, nothing published`, async (_name, headers, body, status, code, field) => {
      const r = await post(body(), headers(), via);
      expect(r.status).toBe(status);
      expect(r.body).toMatchObject({ code, ...(field && { field }) });
      if (status === 401) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="txpipe"/);
      // The answer never repeats the key.
      expect(JSON.stringify(r.body)).not.toMatch(/txp_/);
    });
  }

  it('a batch: each item outside the scope is refused 403 on its own, the rest accepted; without a key the whole batch 401', async () => {
    const event = uid('gig');
    const r = await post(
      {
        transactions: [
          { type: 'seats.define', event, seats: ['A1'] },
          { type: 'seats.define', event: `${marker}-7`, seats: ['A1'] },
          { type: 'stock.set', sku: `${marker}-8`, quantity: 1 },
        ],
      },
      tickets.headers,
      'hot',
      '/v1/transactions/batch',
    );
    expect(r.status).toBe(200);
    expect(
      r.body.results.map((x: { status: string; error?: { code: string; field: string } }) =>
        x.error ? [x.error.code, x.error.field] : x.status,
      ),
    ).toEqual(['accepted', ['forbidden', 'transactions.1.event'], ['forbidden', 'transactions.2.type']]);
    const none = await post(
      { transactions: [{ type: 'stock.set', sku: `${marker}-9`, quantity: 1 }] },
      {},
      'hot',
      '/v1/transactions/batch',
    );
    expect([none.status, none.body.code]).toEqual([401, 'unauthenticated']);
  });

  it('nothing refused reached any topic', async () => {
    for (const topic of [p.topics.wallet, p.topics.stock, p.topics.seats]) {
      const records = await readTopic(p.kafka, topic);
      expect(
        records.filter((m) => m.value!.toString().includes(marker)),
        topic,
      ).toEqual([]);
    }
  });

  it('/healthz, /readyz and /metrics stay open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await get(path, {})).status, path).toBe(200);
  });
});

describe('producers apart', () => {
  it('the same Idempotency-Key from two producers, different payloads: both accepted, both applied, each sees its own', async () => {
    const key = uid('same');
    const [a, b] = [uid('acct-a'), uid('acct-b')];
    const first = await post({ type: 'wallet.open', account: a }, { ...checkout.headers, 'idempotency-key': key });
    const second = await post(
      { type: 'wallet.open', account: b },
      { ...shop.headers, 'idempotency-key': key },
      'express',
    );
    expect([first.status, first.body], 'checkout').toEqual([202, { id: key, status: 'accepted' }]);
    expect([second.status, second.body], 'shop').toEqual([202, { id: key, status: 'accepted' }]);
    const [ca, cb] = [await outcome(key, checkout), await outcome(key, shop)];
    expect(ca).toMatchObject({ id: key, producer: 'checkout', type: 'wallet.open', status: 'applied' });
    expect(cb).toMatchObject({ id: key, producer: 'shop', type: 'wallet.open', status: 'applied' });
    expect((await get(`/v1/accounts/${a}`, checkout.headers)).status).toBe(200);
    expect((await get(`/v1/accounts/${b}`, shop.headers)).status).toBe(200);
    // Each replays only its own: the same again is a replay, not a mismatch.
    const again = await post({ type: 'wallet.open', account: b }, { ...shop.headers, 'idempotency-key': key });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
  });

  it("another producer's transaction is not found; a key that reads everything names it <producer>~<id>", async () => {
    const id = uid('private');
    expect(
      (await post({ type: 'wallet.open', account: uid('acct') }, { ...checkout.headers, 'idempotency-key': id }))
        .status,
    ).toBe(202);
    await outcome(id, checkout);
    expect(await get(`/v1/transactions/${id}`, shop.headers)).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect((await get(`/v1/transactions/checkout~${id}`, shop.headers)).status).toBe(400);
    expect(await get(`/v1/transactions/checkout~${id}`, auditor.headers)).toMatchObject({
      status: 200,
      body: { producer: 'checkout', status: 'applied' },
    });
    expect(await get(`/v1/transactions/${id}`, writer.headers)).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect(await get(`/v1/events/${uid('opera')}/seats`, tickets.headers)).toMatchObject({
      status: 403,
      body: { code: 'forbidden', field: 'event' },
    });
  });

  it("a hold is its producer's: another producer cannot capture it, even naming its id", async () => {
    const account = uid('acct');
    const hold = uid('h');
    for (const body of [
      { type: 'wallet.open', account },
      { type: 'wallet.credit', account, amount: 100 },
    ]) {
      expect((await post(body, checkout.headers)).status).toBe(202);
    }
    expect(
      (await post({ id: hold, type: 'wallet.hold', account, amount: 40, ttl: 60_000 }, checkout.headers)).status,
    ).toBe(202);
    await outcome(hold, checkout);
    const theirs = await post({ type: 'wallet.capture', account, hold }, shop.headers);
    expect([theirs.status, theirs.body.code, theirs.body.message]).toEqual([
      422,
      'unknown_hold',
      `no hold ${hold} on account ${account}`,
    ]);
    const named = await post({ type: 'wallet.capture', account, hold: `checkout~${hold}` }, shop.headers);
    expect([named.status, named.body.field]).toEqual([400, 'hold']);
    const mine = await post({ type: 'wallet.capture', account, hold }, checkout.headers);
    expect(mine.status).toBe(202);
    expect(await outcome(mine.body.id, checkout)).toMatchObject({ status: 'applied', result: { balance: 60 } });
    expect(await get(`/v1/accounts/${account}/holds/${hold}`, checkout.headers)).toMatchObject({
      status: 200,
      body: { hold, state: 'captured' },
    });
  });

  it("a namespaced hold expires through the sweeper; the seat map shows a reader its own holds as sent, others' as stored", async () => {
    const account = uid('acct');
    const hold = uid('h');
    for (const body of [
      { type: 'wallet.open', account },
      { type: 'wallet.credit', account, amount: 10 },
    ]) {
      expect((await post(body, checkout.headers)).status).toBe(202);
    }
    expect(
      (await post({ id: hold, type: 'wallet.hold', account, amount: 5, ttl: 1000 }, checkout.headers)).status,
    ).toBe(202);
    await waitFor(
      'the hold expired',
      async () => (await get(`/v1/accounts/${account}/holds/${hold}`, checkout.headers)).body?.state === 'expired',
      20_000,
    );
    expect((await get(`/v1/accounts/${account}`, checkout.headers)).body).toMatchObject({
      balance: 10,
      held: 0,
      available: 10,
    });

    const event = uid('gig');
    const booking = uid('b');
    expect((await post({ type: 'seats.define', event, seats: ['A1', 'A2'] }, tickets.headers)).status).toBe(202);
    expect(
      (await post({ id: booking, type: 'seats.hold', event, seats: ['A1'], holder: 'c', ttl: 60_000 }, tickets.headers))
        .status,
    ).toBe(202);
    await outcome(booking, tickets);
    expect((await get(`/v1/events/${event}/seats`, tickets.headers)).body.seats).toEqual([
      { seat: 'A1', state: 'held', hold: booking },
      { seat: 'A2', state: 'free' },
    ]);
    expect((await get(`/v1/events/${event}/seats`, auditor.headers)).body.seats[0]).toEqual({
      seat: 'A1',
      state: 'held',
      hold: `tickets~${booking}`,
    });
  });

  it('the producer travels as a Kafka header and is recorded in the results record', async () => {
    const id = uid('audit');
    expect(
      (await post({ type: 'wallet.open', account: uid('acct') }, { ...shop.headers, 'idempotency-key': id })).status,
    ).toBe(202);
    await outcome(id, shop);
    const sent = (await readTopic(p.kafka, p.topics.wallet)).find(
      (m) => JSON.parse(m.value!.toString()).id === `shop~${id}`,
    );
    expect(sent?.headers?.['txpipe-producer']?.toString()).toBe('shop');
    const result = (await readTopic(p.kafka, p.topics.results))
      .map((m) => JSON.parse(m.value!.toString()))
      .find((r) => r.id === `shop~${id}`);
    expect(result).toMatchObject({ producer: 'shop', status: 'applied' });
    expect(readStatus(await p.redis.hgetall(statusKey(scopedId('shop', id))), scopedId('shop', id))?.producer).toBe(
      'shop',
    );
  });

  it("a transfer's producer is recorded when its last step decides it, also for ids stored as sent (the follow-ups carry the header)", async () => {
    const [from, to] = [uid('from'), uid('to')];
    for (const body of [
      { type: 'wallet.open', account: from },
      { type: 'wallet.open', account: to },
      { type: 'wallet.credit', account: from, amount: 10 },
    ]) {
      expect((await p.post(body)).status).toBe(202);
    }
    const t = await p.post({ type: 'wallet.transfer', from, to, amount: 4 });
    expect(t.status).toBe(202);
    // The pipeline's own key keeps its ids as sent: the producer comes from the header, step after step.
    const [outcome] = (await waitForOutcomes(p, [t.body.id])).values();
    expect(outcome).toMatchObject({ status: 'applied', producer: 'test' });
    expect((await p.get(`/v1/transactions/${t.body.id}`)).body).toMatchObject({
      id: t.body.id,
      producer: 'test',
      status: 'applied',
    });
  });

  it('a key added to the file, or revoked there, counts within a second or two', async () => {
    const late = addKey(p.keysFile, { name: 'late', scope: 'wallet.*' });
    await waitFor(
      'the new key accepted',
      async () => (await post({ type: 'wallet.open', account: uid('acct') }, late.headers)).status === 202,
      10_000,
    );
    revoke(p.keysFile, late.id);
    await waitFor(
      'the revoked key refused',
      async () => (await post({ type: 'wallet.open', account: uid('acct') }, late.headers)).status === 401,
      10_000,
    );
  });
});
