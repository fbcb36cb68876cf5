// Bad input gets a 4xx JSON error with a stable code and the field, and nothing is published.
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ processor: false });
});
afterAll(async () => {
  await p?.stop();
});

const debit = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: 'wallet.debit', account: 'acct-1', amount: 5, ...fields });

type Case = [
  name: string,
  body: string,
  status: number,
  code: string,
  field?: string,
  headers?: Record<string, string>,
];
/** One case of every code the body and its parsing can get, over HTTP; ingest-api/parse.spec.ts has them all. */
const cases: Case[] = [
  ['body not JSON', '{"type":"wallet.debit",', 400, 'invalid_json'],
  [
    'Content-Encoding gzip on a body that is not gzip',
    debit({}),
    400,
    'invalid_encoding',
    undefined,
    { 'content-encoding': 'gzip' },
  ],
  [
    'Content-Encoding br (not supported)',
    debit({}),
    415,
    'unsupported_media_type',
    undefined,
    { 'content-encoding': 'br' },
  ],
  ['amount 1.0 (a fraction)', '{"type":"wallet.debit","account":"a","amount":1.0}', 400, 'not_an_integer', 'amount'],
  ['amount twice', '{"type":"wallet.debit","account":"a","amount":1,"amount":7}', 400, 'duplicate_key', 'amount'],
  ['body a JSON array', '[1,2]', 400, 'not_an_object'],
  ['body over the size limit', debit({ memo: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large'],
  ['unknown type', debit({ type: 'wallet.teleport' }), 400, 'unknown_type', 'type'],
  ['missing amount', JSON.stringify({ type: 'wallet.debit', account: 'a' }), 400, 'missing_field', 'amount'],
  ['extra field', debit({ note: 'hi' }), 400, 'unknown_field', 'note'],
  ['amount as a string', debit({ amount: '5' }), 400, 'wrong_type', 'amount'],
  ['amount zero', debit({ amount: 0 }), 400, 'out_of_range', 'amount'],
  ['account with a hash tag brace', debit({ account: 'a{b}' }), 400, 'invalid_format', 'account'],
  ['header and body ids differ', debit({ id: 'one' }), 400, 'id_mismatch', 'id', { 'Idempotency-Key': 'two' }],
];

describe('bad input', () => {
  it.each(cases)('%s', async (_name, body, status, code, field, headers) => {
    const r = await p.post(body, headers);
    expect(r.status).toBe(status);
    expect(r.body.code).toBe(code);
    expect(typeof r.body.message).toBe('string');
    if (field) expect(r.body.field).toBe(field);
  });

  it('wrong content type -> 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await fetch(`${p.ingestUrl}/v1/transactions`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': type },
        body: debit({}),
      });
      expect(r.status).toBe(415);
      expect((await r.json()).code).toBe('unsupported_media_type');
    }
    const none = await fetch(`${p.ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: p.auth,
      body: new Blob([debit({})]),
    });
    expect(none.status).toBe(415);
  });

  it('gzip: a body over the limit once decompressed -> 413 (the limit is on the decompressed size)', async () => {
    const r = await fetch(`${p.ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(debit({ memo: 'x'.repeat(70 * 1024) })),
    });
    expect(r.status).toBe(413);
    expect((await r.json()).code).toBe('payload_too_large');
  });

  it('UTF-16 and UTF-32 bodies (with or without a byte order mark) -> 415, like any charset but UTF-8', async () => {
    const text = debit({});
    const bodies = {
      'UTF-16LE with BOM': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
      'UTF-16BE with BOM': Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]),
      'UTF-16LE without BOM': Buffer.from(text, 'utf16le'),
    };
    for (const [name, body] of Object.entries(bodies)) {
      const r = await fetch(`${p.ingestUrl}/v1/transactions`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': 'application/json' },
        body,
      });
      expect(r.status, name).toBe(415);
      expect((await r.json()).code, name).toBe('unsupported_media_type');
    }
    const bad = await fetch(`${p.ingestUrl}/v1/transactions`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('invalid_encoding');
  });

  it('a malformed percent-escape in a path -> 400 invalid_format', async () => {
    for (const path of [
      '/v1/accounts/%E0%A4%A',
      '/v1/transactions/%E0%A4%A',
      '/v1/stock/%ZZ/reservations/r',
      '/v1/events/e/holds/%',
    ]) {
      const r = await p.get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.code, path).toBe('invalid_format');
    }
  });

  it('a batch: an item with a fraction or a repeated key is refused on its own, naming its field', async () => {
    const items =
      '[{"type":"wallet.debit","account":"a","amount":1.0},{"type":"wallet.debit","account":"a","amount":1,"amount":2},{"type":"wallet.nope"}]';
    const r = await fetch(`${p.ingestUrl}/v1/transactions/batch`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'application/json' },
      body: `{"transactions":${items}}`,
    });
    expect(r.status).toBe(200);
    const { results } = await r.json();
    expect(results.map((x: { error: { code: string; field: string } }) => [x.error.code, x.error.field])).toEqual([
      ['not_an_integer', 'transactions.0.amount'],
      ['duplicate_key', 'transactions.1.amount'],
      ['unknown_type', 'transactions.2.type'],
    ]);
    const twice = await fetch(`${p.ingestUrl}/v1/transactions/batch`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'application/json' },
      body: '{"transactions":[],"transactions":[]}',
    });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ code: 'duplicate_key', field: 'transactions' });
  });

  it('nothing above reached Kafka', async () => {
    const admin = p.kafka.admin();
    await admin.connect();
    for (const topic of Object.values(p.topics)) {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(
        offsets.every((o) => o.high === '0'),
        `${topic} is empty`,
      ).toBe(true);
    }
    await admin.disconnect();
  });
});

/**
 * Sends `head` (and then `chunks`, 20 ms apart, unless the answer came) over a raw socket; resolves with
 * what came back once the server closes the connection, or after `timeoutMs` with closed false.
 */
function raw(
  url: string,
  head: string,
  chunks: Buffer[] = [],
  timeoutMs = 5000,
): Promise<{ answer: string; closed: boolean; chunksSent: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    let answer = '',
      sent = 0;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ answer, closed, chunksSent: sent });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('data', (b) => {
      answer += b.toString();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => done(true));
    sock.on('connect', async () => {
      sock.write(head);
      for (const c of chunks) {
        await new Promise((r) => setTimeout(r, 20));
        if (answer || sock.destroyed) return;
        sock.write(c);
        sent++;
      }
    });
  });
}

describe('a body over the limit is refused as soon as its size passes it, and the connection closed', () => {
  const head = (path: string, headers: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${p.auth.authorization}\r\n${headers}\r\n`;

  it.each(['/v1/transactions', '/v1/transactions/batch'])(
    '%s: a Content-Length over the limit -> 413 before any of the body is sent',
    async (path) => {
      const r = await raw(p.ingestUrl, head(path, 'Content-Length: 10485760\r\n'));
      expect(r.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(r.answer.toLowerCase()).toContain('connection: close');
      expect(r.answer).toContain('"code":"payload_too_large"');
      expect(r.closed, 'the server closed the connection').toBe(true);
    },
  );

  it('chunked: 413 once the bytes received pass the limit, before the rest is sent', async () => {
    const chunk = (n: number) => Buffer.from(`${n.toString(16)}\r\n${' '.repeat(n)}\r\n`);
    const chunks = Array.from({ length: 40 }, () => chunk(16 * 1024));
    const r = await raw(p.ingestUrl, head('/v1/transactions', 'Transfer-Encoding: chunked\r\n'), chunks);
    expect(r.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.closed, 'the server closed the connection').toBe(true);
    // 64 KiB is passed with the 5th chunk of 16 KiB; the answer comes well before the 40th.
    expect(r.chunksSent).toBeLessThan(20);
  });
});

describe('Kafka unreachable at ingest', () => {
  it('answers 503 with Retry-After, never 202', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const q = await startPipeline({ processor: false, env: { TXPIPE_KAFKA_BROKERS: dead }, ready: false });
    try {
      const r = await q.post({ type: 'wallet.credit', account: uid('a'), amount: 1 });
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('kafka_unavailable');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await q.get('/readyz')).status).toBe(503);
      expect((await q.get('/healthz')).status).toBe(200);
    } finally {
      await q.stop();
    }
  });
});
