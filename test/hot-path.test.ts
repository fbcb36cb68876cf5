// The hot path (ingest-api/hot-path.ts) answers plain POST /v1/transactions without Express; Express
// answers everything else, including the same route with a query string. Each request below is sent both
// ways and must get the same status, body and headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { takesHotPath, withHotPath, type TransactionDeps } from '../ingest-api/hot-path.ts';
import { startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ processor: false });
});
afterAll(async () => {
  await p?.stop();
});

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | null>;
}

async function send(
  via: 'hot' | 'express',
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<Answer> {
  const url = `${p.ingestUrl}/v1/transactions${via === 'express' ? '?via=express' : ''}`;
  const r = await fetch(url, { method: 'POST', headers: { ...p.auth, ...headers }, body: body as unknown as BodyInit });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* compared as text */
  }
  const pick = [
    'content-type',
    'retry-after',
    'idempotent-replayed',
    'x-powered-by',
    'etag',
    'www-authenticate',
    'cache-control',
    'x-content-type-options',
  ];
  return { status: r.status, body: parsed, headers: Object.fromEntries(pick.map((h) => [h, r.headers.get(h)])) };
}

/** Ids differ between the two requests (generated, or a fresh one each); everything else must not. */
const normalize = (a: Answer) => {
  const body = a.body as { id?: string } | null;
  if (a.status === 202 && body && typeof body === 'object' && typeof body.id === 'string')
    return { ...a, body: { ...body, id: '<id>' } };
  return a;
};

const json = { 'content-type': 'application/json' };
const debit = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'wallet.debit', account: 'acct-1', amount: 5, ...fields });

type Case = [name: string, body: () => string | Uint8Array, headers?: () => Record<string, string>];
const cases: Case[] = [
  ['a valid debit, id generated', () => debit()],
  ['a valid debit, body id', () => debit({ id: uid('b') })],
  ['charset=utf-8, any case', () => debit(), () => ({ 'content-type': 'application/json; charset=UTF-8' })],
  ['no space before charset', () => debit(), () => ({ 'content-type': 'application/json;charset=utf-8' })],
  ['a UTF-8 byte order mark', () => new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(debit())])],
  ['empty body', () => ''],
  ['not JSON', () => '{"type":"wallet.debit",'],
  ['JSON null', () => 'null'],
  ['JSON array', () => '[1]'],
  ['JSON string', () => '"wallet.debit"'],
  ['whitespace around', () => `  \n${debit()}\n `],
  ['unknown type', () => debit({ type: 'wallet.teleport' })],
  ['internal type', () => debit({ type: 'wallet.expire' })],
  ['amount as a string', () => debit({ amount: '5' })],
  ['amount as a float', () => debit({ amount: 1.5 })],
  ['unknown field', () => debit({ note: 'x' })],
  ['header and body ids differ', () => debit({ id: 'one' }), () => ({ ...json, 'idempotency-key': 'two' })],
  ['Idempotency-Key with a space', () => debit(), () => ({ ...json, 'idempotency-key': 'a b' })],
  ['amount 1.0', () => '{"type":"wallet.debit","account":"a","amount":1.0}'],
  ['amount 1e3', () => '{"type":"wallet.debit","account":"a","amount":1e3}'],
  ['amount 1.0000000000000001', () => '{"type":"wallet.debit","account":"a","amount":1.0000000000000001}'],
  ['amount twice', () => '{"type":"wallet.debit","account":"a","amount":1,"amount":7}'],
  [
    'a repeated key nested in an unknown field',
    () => '{"type":"wallet.debit","account":"a","amount":1,"x":{"y":1,"y":2}}',
  ],
  ['a UTF-16 byte order mark', () => new Uint8Array([0xff, 0xfe, ...Buffer.from(debit(), 'utf16le')])],
  ['UTF-16 without a byte order mark', () => new Uint8Array(Buffer.from(debit(), 'utf16le'))],
  ['bytes that are not UTF-8', () => new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])],
  ['no key', () => debit(), () => ({ ...json, authorization: '' })],
  ['a malformed Authorization header', () => debit(), () => ({ ...json, authorization: 'Basic dXNlcjpwYXNz' })],
  [
    'an unknown key',
    () => debit(),
    () => ({ ...json, authorization: 'Bearer txp_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
  ],
  [
    'seats.hold on an event not defined',
    () => JSON.stringify({ type: 'seats.hold', event: uid('ev'), seats: ['a1'], holder: 'h', ttl: 60_000 }),
  ],
];

describe('hot path vs Express', () => {
  it('which requests take the hot path: only the plain form (a query string sends them to Express)', () => {
    const req = (url: string, headers: Record<string, string>, method = 'POST') => ({ method, url, headers });
    const ok = { 'content-type': 'application/json', 'content-length': '10' };
    expect(takesHotPath(req('/v1/transactions', ok))).toBe(true);
    expect(takesHotPath(req('/v1/transactions', { ...ok, 'content-type': 'Application/JSON; charset=UTF-8' }))).toBe(
      true,
    );
    expect(takesHotPath(req('/v1/transactions?via=express', ok))).toBe(false);
    expect(takesHotPath(req('/v1/transactions/', ok))).toBe(false);
    expect(takesHotPath(req('/v1/transactions', ok, 'PUT'))).toBe(false);
    expect(takesHotPath(req('/v1/transactions', { ...ok, 'content-type': 'application/json; charset=latin1' }))).toBe(
      false,
    );
    expect(takesHotPath(req('/v1/transactions', { ...ok, 'content-type': 'text/plain' }))).toBe(false);
    expect(takesHotPath(req('/v1/transactions', { ...ok, 'content-encoding': 'gzip' }))).toBe(false);
    expect(
      takesHotPath(req('/v1/transactions', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })),
    ).toBe(false);
    expect(takesHotPath(req('/v1/transactions', { ...ok, 'content-length': String(64 * 1024 + 1) }))).toBe(false);
  });

  it.each(cases)('%s: same answer', async (_name, body, headers) => {
    const h = headers?.() ?? json;
    const [hot, exp] = [await send('hot', body(), h), await send('express', body(), h)];
    expect(normalize(hot)).toEqual(normalize(exp));
  });

  it('Idempotency-Key: accepted, replayed, mismatched — the same both ways', async () => {
    for (const via of ['hot', 'express'] as const) {
      const key = uid(`k-${via}`);
      const h = { ...json, 'idempotency-key': key };
      const first = await send(via, debit(), h);
      const again = await send(via, debit(), h);
      const other = await send(via, debit({ amount: 6 }), h);
      expect(first).toMatchObject({
        status: 202,
        body: { id: key, status: 'accepted' },
        headers: { 'idempotent-replayed': null },
      });
      expect(again).toMatchObject({
        status: 202,
        body: { id: key, status: 'accepted' },
        headers: { 'idempotent-replayed': 'true' },
      });
      expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_mismatch', field: 'id' } });
    }
    // A key accepted on one path is a replay on the other: one store, one semantics.
    const key = uid('k-cross');
    expect((await send('hot', debit(), { ...json, 'idempotency-key': key })).status).toBe(202);
    expect((await send('express', debit(), { ...json, 'idempotency-key': key })).headers['idempotent-replayed']).toBe(
      'true',
    );
  });

  it('request metrics count hot-path answers under the route, like Express', async () => {
    const before = await metric();
    await send('hot', debit(), json);
    await send('hot', '{', json);
    const after = await metric();
    expect(after['202']! - (before['202'] ?? 0)).toBe(1);
    expect(after['400']! - (before['400'] ?? 0)).toBe(1);
  });
});

async function metric(): Promise<Record<string, number>> {
  const text = await (await fetch(`${p.ingestUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^txpipe_ingest_requests_total\{(.*)\} (\d+)/.exec(line);
    if (!m || !m[1]!.includes('route="/v1/transactions"')) continue;
    const status = /status="(\d+)"/.exec(m[1]!)?.[1];
    if (status) out[status] = (out[status] ?? 0) + Number(m[2]);
  }
  return out;
}

describe('admission', () => {
  it('past maxInFlight transaction requests, the next get 503 overloaded at once; reads are never shed', async () => {
    // A stand-in for Express that holds every request until released; the hot path is not reached here
    // (query strings), so no Redis or Kafka is needed.
    const held: ServerResponse[] = [];
    const app = (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'GET') return void res.end('read');
      req.resume();
      held.push(res);
    };
    const server = createServer(withHotPath({} as TransactionDeps, app, 2)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    try {
      const first = [post('/v1/transactions?a'), post('/v1/transactions/batch?b')];
      while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
      const shed = await post('/v1/transactions');
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(await shed.json()).toMatchObject({ code: 'overloaded' });
      expect((await post('/v1/transactions/batch')).status).toBe(503);
      expect(await (await fetch(`${url}/v1/accounts/a`)).text()).toBe('read');
      // Once one finishes, the next is admitted again.
      held.shift()!.end('done');
      expect((await first[0]!).status).toBe(200);
      const next = post('/v1/transactions?c');
      while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
      for (const r of held) r.end('done');
      expect((await next).status).toBe(200);
      expect((await first[1]!).status).toBe(200);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
