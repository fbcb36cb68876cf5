// The OpenAPI document describes the API as it answers: every route of app.ts is in it, and real answers
// of the pipeline (successes and refusals) validate against it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, uid, waitForOutcomes, type Pipeline } from './harness.ts';
import { conformance, openApiPath } from './openapi-conformance.ts';
import { appRoutes } from './app-routes.ts';

let p: Pipeline;
let doc: Record<string, any>;
let check: ReturnType<typeof conformance>;
beforeAll(async () => {
  p = await startPipeline();
  doc = await (await fetch(`${p.ingestUrl}/openapi.json`)).json();
  check = conformance(doc);
});
afterAll(async () => {
  await p?.stop();
});

/** A request whose answer must conform; returns the answer. */
async function call(
  method: string,
  template: string,
  path: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const r = await fetch(`${p.ingestUrl}${path}`, {
    method,
    headers: {
      ...(method === 'POST' && { 'content-type': 'application/json' }),
      ...(template.startsWith('/v1/') && p.auth),
      ...init.headers,
    },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await r.text();
  const type = r.headers.get('content-type');
  const body = type?.startsWith('application/json') ? JSON.parse(text) : text;
  check(method, template, r.status, type, body);
  return { status: r.status, body };
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every route of app.ts and every public transaction type', () => {
    expect(doc.openapi).toBe('3.1.0');
    const routes = appRoutes().map((r) => [r.method, openApiPath(r.path)] as const);
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter(([method, path]) => !doc.paths[path]?.[method])).toEqual([]);
    for (const t of ['wallet.open', 'wallet.transfer', 'stock.reserve', 'seats.hold']) {
      expect(doc.components.schemas.TransactionRequest.oneOf).toContainEqual({ $ref: `#/components/schemas/${t}` });
    }
  });

  it('real answers, successes and refusals, validate against it', async () => {
    const account = uid('acct');
    const open = await call('POST', '/v1/transactions', '/v1/transactions', {
      body: { type: 'wallet.open', account },
      headers: { 'Idempotency-Key': uid('open') },
    });
    expect(open.status).toBe(202);
    const hold = uid('hold');
    const [sku, reservation, event, seatHold] = [uid('sku'), uid('res'), uid('gig'), uid('sh')];
    const batch = await call('POST', '/v1/transactions/batch', '/v1/transactions/batch', {
      body: {
        transactions: [
          { type: 'wallet.credit', account, amount: 500 },
          { id: hold, type: 'wallet.hold', account, amount: 100, ttl: 60_000 },
          { type: 'stock.set', sku, quantity: 10 },
          { id: reservation, type: 'stock.reserve', sku, quantity: 1, customer: 'c1', ttl: 60_000 },
          { type: 'seats.define', event, seats: ['A1', 'A2'] },
          { id: seatHold, type: 'seats.hold', event, seats: ['A1'], holder: 'h1', ttl: 60_000 },
          { type: 'wallet.debit', account, amount: 1.5 },
        ],
      },
    });
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual([
      ...Array(6).fill('accepted'),
      'refused',
    ]);
    const pending = await call('GET', '/v1/transactions/{id}', `/v1/transactions/${batch.body.results[0].id}`);
    expect(pending.status).toBe(200);
    const debit = await call('POST', '/v1/transactions', '/v1/transactions', {
      body: { type: 'wallet.debit', account, amount: 10_000 },
    });
    await waitForOutcomes(p, [
      open.body.id,
      ...batch.body.results.slice(0, 6).map((r: { id: string }) => r.id),
      debit.body.id,
    ]);

    expect((await call('GET', '/v1/transactions/{id}', `/v1/transactions/${debit.body.id}`)).body).toMatchObject({
      status: 'rejected',
      code: 'insufficient_funds',
    });
    expect((await call('GET', '/v1/transactions/{id}', `/v1/transactions/${open.body.id}`)).body).toMatchObject({
      status: 'applied',
    });
    expect((await call('GET', '/v1/accounts/{id}', `/v1/accounts/${account}`)).status).toBe(200);
    expect((await call('GET', '/v1/accounts/{id}/holds/{hold}', `/v1/accounts/${account}/holds/${hold}`)).status).toBe(
      200,
    );
    expect((await call('GET', '/v1/stock/{sku}', `/v1/stock/${sku}`)).status).toBe(200);
    expect(
      (await call('GET', '/v1/stock/{sku}/reservations/{reservation}', `/v1/stock/${sku}/reservations/${reservation}`))
        .status,
    ).toBe(200);
    expect((await call('GET', '/v1/events/{event}/seats', `/v1/events/${event}/seats`)).status).toBe(200);
    expect((await call('GET', '/v1/events/{event}/holds/{hold}', `/v1/events/${event}/holds/${seatHold}`)).status).toBe(
      200,
    );
    expect(
      (await call('GET', '/v1/accounts/{id}/entries', `/v1/accounts/${account}/entries?limit=1`)).body.next,
    ).not.toBeNull();
    expect((await call('GET', '/v1/stock/{sku}/entries', `/v1/stock/${sku}/entries`)).body.entries).toHaveLength(2);
    expect((await call('GET', '/v1/events/{event}/entries', `/v1/events/${event}/entries`)).body.entries).toHaveLength(
      2,
    );
    const waited = await call('POST', '/v1/transactions', '/v1/transactions?wait=10000', {
      body: { type: 'wallet.credit', account, amount: 5 },
    });
    expect(waited).toMatchObject({ status: 200, body: { status: 'applied' } });
    expect(
      (await call('GET', '/v1/transactions/{id}', `/v1/transactions/${waited.body.id}?wait=100`)).body.status,
    ).toBe('applied');
    expect((await call('GET', '/v1/events/{event}/entries', `/v1/events/${event}/entries?limit=0`)).status).toBe(400);

    // Refusals: each status with its error body.
    const key = uid('k');
    await call('POST', '/v1/transactions', '/v1/transactions', {
      body: { type: 'wallet.credit', account, amount: 1 },
      headers: { 'Idempotency-Key': key },
    });
    expect(
      (
        await call('POST', '/v1/transactions', '/v1/transactions', {
          body: { type: 'wallet.credit', account, amount: 2 },
          headers: { 'Idempotency-Key': key },
        })
      ).status,
    ).toBe(422);
    expect(
      (await call('POST', '/v1/transactions', '/v1/transactions', { body: { type: 'wallet.credit', account } })).status,
    ).toBe(400);
    expect((await call('POST', '/v1/transactions', '/v1/transactions', { raw: '{"type":', headers: {} })).status).toBe(
      400,
    );
    expect(
      (
        await call('POST', '/v1/transactions', '/v1/transactions', {
          raw: 'x',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    expect(
      (
        await call('POST', '/v1/transactions', '/v1/transactions', {
          raw: JSON.stringify({ type: 'seats.define', event, seats: ['x'.repeat(70_000)] }),
        })
      ).status,
    ).toBe(413);
    expect(
      (
        await call('POST', '/v1/transactions', '/v1/transactions', {
          body: { type: 'seats.hold', event, seats: ['Z9'], holder: 'h', ttl: 60_000 },
        })
      ).status,
    ).toBe(422);
    expect((await call('GET', '/v1/transactions/{id}', '/v1/transactions/no-such-tx')).status).toBe(404);
    expect((await call('GET', '/v1/accounts/{id}', '/v1/accounts/bad%7Bid')).status).toBe(400);
    expect((await call('GET', '/v1/stock/{sku}', `/v1/stock/${uid('none')}`)).status).toBe(404);

    // The service's own routes.
    expect((await call('GET', '/healthz', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz', '/readyz')).status).toBe(200);
    expect((await call('GET', '/metrics', '/metrics')).status).toBe(200);
    expect((await call('GET', '/openapi.json', '/openapi.json')).status).toBe(200);
  });

  it('Swagger UI is served from this host at /docs', async () => {
    const page = await call('GET', '/docs', '/docs');
    expect(page.body).toContain('SwaggerUIBundle');
    const bundle = await fetch(`${p.ingestUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });
});
