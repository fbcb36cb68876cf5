// Bad input for every transaction type of transfers, holds, stock and seats (and the batch endpoint):
// a 4xx with a stable code and the offending field, and nothing published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domains } from '../common/domains.ts';
import { limits } from '../common/limits.ts';
import { readTopic, startPipeline, uid, type Pipeline } from './harness.ts';
import { apply, postBatch } from './domains.ts';

let p: Pipeline;
const account = uid('acct'),
  event = uid('event'),
  sku = uid('sku');
/** Every id that may reach Kafka: the setup's and the valid batch items'. */
const published = new Set<string>();

beforeAll(async () => {
  p = await startPipeline();
  for (const body of [
    { type: 'wallet.open', account },
    { type: 'wallet.credit', account, amount: 100 },
    { type: 'seats.define', event, seats: ['A1', 'A2', 'A3'] },
    { type: 'stock.set', sku, quantity: 10 },
  ]) {
    const o = await apply(p, body);
    expect(o.code).toBe('ok');
    published.add(o.id);
  }
});
afterAll(async () => {
  await p?.stop();
});

type Case = [name: string, body: Record<string, unknown>, status: number, code: string, field: string];
/**
 * Over HTTP: the domain codes, and a reference check of every domain (they need Redis). Every other bad
 * input of every type is refused the same way without a server: ingest-api/parse.spec.ts.
 */
const hour = 3_600_000;
const cases: Case[] = [
  [
    'wallet.transfer to itself',
    { type: 'wallet.transfer', from: account, to: account, amount: 5 },
    400,
    'self_transfer',
    'to',
  ],
  [
    'wallet.capture of an unknown hold',
    { type: 'wallet.capture', account, hold: uid('nohold') },
    422,
    'unknown_hold',
    'hold',
  ],
  [
    'stock.confirm of an unknown reservation',
    { type: 'stock.confirm', sku, reservation: uid('nores') },
    422,
    'unknown_reservation',
    'reservation',
  ],
  [
    'seats.define with a duplicate seat',
    { type: 'seats.define', event, seats: ['A1', 'A2', 'A1'] },
    400,
    'duplicate_seat',
    'seats.2',
  ],
  [
    'seats.hold of an unknown seat',
    { type: 'seats.hold', event, seats: ['A1', 'Z9'], holder: 'h', ttl: hour },
    422,
    'unknown_seat',
    'seats.1',
  ],
  [
    'seats.confirm of an unknown hold',
    { type: 'seats.confirm', event, hold: uid('nohold') },
    422,
    'unknown_hold',
    'hold',
  ],
];

describe("bad input, the domains' codes", () => {
  it('checks a reference of every domain', () => {
    const checked = new Set(cases.filter((c) => c[2] === 422).map((c) => String(c[1].type).split('.')[0]));
    expect(domains.filter((d) => !checked.has(d))).toEqual([]);
  });

  it.each(cases)('%s', async (_name, body, status, code, field) => {
    const r = await p.post({ id: uid('bad'), ...body });
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ code, field });
    expect(typeof r.body.message).toBe('string');
  });
});

describe('POST /v1/transactions/batch', () => {
  it('answers per item: valid items accepted, each bad one refused with its code and field', async () => {
    const hold = uid('hold');
    const items: unknown[] = [
      { id: uid('ok'), type: 'wallet.credit', account, amount: 1 },
      { id: uid('bad'), type: 'wallet.transfer', from: account, to: account, amount: 1 },
      // A capture of a hold created earlier in the same batch is on its way, not unknown.
      { id: hold, type: 'wallet.hold', account, amount: 10, ttl: hour },
      { id: uid('ok'), type: 'wallet.capture', account, hold },
      { id: uid('bad'), type: 'seats.hold', event, seats: ['A3', 'Q1'], holder: 'h', ttl: hour },
      { id: uid('bad'), type: 'stock.reserve', sku, quantity: 0, customer: 'c', ttl: hour },
      'not an object',
      { id: uid('bad'), type: 'seats.expire', event },
      // Over maxSeatsPerEvent: only a batch (maxBatchBytes) can carry that many seat ids; one POST is 413 first.
      {
        id: uid('bad'),
        type: 'seats.define',
        event,
        seats: Array.from({ length: limits.maxSeatsPerEvent + 1 }, (_, i) => `${i}`),
      },
    ];
    const r = await postBatch(p, items);
    expect(r.status).toBe(200);
    const results = r.body.results as Array<{
      index: number;
      status: string;
      id?: string;
      error?: { status: number; code: string; field?: string };
    }>;
    expect(results.map((x) => [x.index, x.status, x.error?.status, x.error?.code, x.error?.field])).toEqual([
      [0, 'accepted', undefined, undefined, undefined],
      [1, 'refused', 400, 'self_transfer', 'transactions.1.to'],
      [2, 'accepted', undefined, undefined, undefined],
      [3, 'accepted', undefined, undefined, undefined],
      [4, 'refused', 422, 'unknown_seat', 'transactions.4.seats.1'],
      [5, 'refused', 400, 'out_of_range', 'transactions.5.quantity'],
      [6, 'refused', 400, 'not_an_object', 'transactions.6'],
      [7, 'refused', 400, 'unknown_type', 'transactions.7.type'],
      [8, 'refused', 400, 'out_of_range', 'transactions.8.seats'],
    ]);
    for (const x of results) if (x.status === 'accepted') published.add(x.id!);
    expect(results.filter((x) => x.status === 'accepted').map((x) => x.id)).toEqual([
      (items[0] as { id: string }).id,
      hold,
      (items[3] as { id: string }).id,
    ]);
  });

  it('refuses the batch as a whole when it is too large, empty or malformed', async () => {
    const credit = { type: 'wallet.credit', account, amount: 1 };
    const tooMany = await postBatch(
      p,
      Array.from({ length: limits.maxBatchItems + 1 }, () => credit),
    );
    expect(tooMany).toMatchObject({ status: 413, body: { code: 'payload_too_large', field: 'transactions' } });
    const memo = 'x'.repeat(2000);
    const tooBig = await postBatch(
      p,
      Array.from({ length: Math.ceil(limits.maxBatchBytes / 2000) + 1 }, () => ({ ...credit, memo })),
    );
    expect(tooBig).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    expect(await postBatch(p, [])).toMatchObject({
      status: 400,
      body: { code: 'out_of_range', field: 'transactions' },
    });
    expect(await postBatch(p, [credit], { 'Idempotency-Key': 'k1' })).toMatchObject({
      status: 400,
      body: { field: 'Idempotency-Key' },
    });
    // The rest of parseBatch's refusals: ingest-api/parse.spec.ts.
    const raw = (body: string) =>
      fetch(`${p.ingestUrl}/v1/transactions/batch`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': 'application/json' },
        body,
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(await raw('[]')).toMatchObject({ status: 400, body: { code: 'not_an_object' } });
  });
});

it('nothing refused reached Kafka: the domain topics hold exactly the accepted transactions', async () => {
  const ids = new Set<string>();
  for (const topic of domains.map((d) => p.topics[d])) {
    for (const m of await readTopic(p.kafka, topic)) {
      const msg = JSON.parse(m.value!.toString()) as { id: string; type: string };
      // The processor's own messages (none expected here) would be internal steps of accepted ones.
      ids.add(msg.id);
    }
  }
  expect([...ids].sort()).toEqual([...published].sort());
});
