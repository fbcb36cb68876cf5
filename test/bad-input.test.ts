// Bad input gets a 4xx JSON error with a stable code and the field, and nothing is published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports.ts';
import { startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => { p = await startPipeline({ processor: false }); });
afterAll(async () => { await p?.stop(); });

const debit = (fields: Record<string, unknown>) => JSON.stringify({ type: 'wallet.debit', account: 'acct-1', amount: 5, ...fields });

type Case = [name: string, body: string, status: number, code: string, field?: string, headers?: Record<string, string>];
const cases: Case[] = [
  ['body not JSON', '{"type":"wallet.debit",', 400, 'invalid_json'],
  ['body a JSON array', '[1,2]', 400, 'not_an_object'],
  ['body JSON null', 'null', 400, 'not_an_object'],
  ['body over the size limit', debit({ memo: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large'],
  ['unknown type', debit({ type: 'wallet.teleport' }), 400, 'unknown_type', 'type'],
  ['missing type', JSON.stringify({ account: 'a', amount: 1 }), 400, 'missing_field', 'type'],
  ['missing amount', JSON.stringify({ type: 'wallet.debit', account: 'a' }), 400, 'missing_field', 'amount'],
  ['missing account', JSON.stringify({ type: 'wallet.credit', amount: 1 }), 400, 'missing_field', 'account'],
  ['extra field', debit({ note: 'hi' }), 400, 'unknown_field', 'note'],
  ['amount as a string', debit({ amount: '5' }), 400, 'wrong_type', 'amount'],
  ['amount as a float', debit({ amount: 1.5 }), 400, 'not_an_integer', 'amount'],
  ['amount zero', debit({ amount: 0 }), 400, 'out_of_range', 'amount'],
  ['amount negative', debit({ amount: -3 }), 400, 'out_of_range', 'amount'],
  ['amount above 2^53-1', '{"type":"wallet.debit","account":"a","amount":9007199254740993}', 400, 'out_of_range', 'amount'],
  ['amount 1e400 (Infinity)', '{"type":"wallet.debit","account":"a","amount":1e400}', 400, 'not_an_integer', 'amount'],
  ['amount "NaN"', debit({ amount: 'NaN' }), 400, 'wrong_type', 'amount'],
  ['amount null', debit({ amount: null }), 400, 'wrong_type', 'amount'],
  ['amount boolean', debit({ amount: true }), 400, 'wrong_type', 'amount'],
  ['overdraft negative', JSON.stringify({ type: 'wallet.open', account: 'a', overdraft: -1 }), 400, 'out_of_range', 'overdraft'],
  ['id empty', debit({ id: '' }), 400, 'out_of_range', 'id'],
  ['id too long', debit({ id: 'i'.repeat(129) }), 400, 'out_of_range', 'id'],
  ['id with a control character', debit({ id: 'a\u0001b' }), 400, 'invalid_format', 'id'],
  ['id not a string', debit({ id: 12 }), 400, 'wrong_type', 'id'],
  ['account with a hash tag brace', debit({ account: 'a{b}' }), 400, 'invalid_format', 'account'],
  ['account empty', debit({ account: '' }), 400, 'out_of_range', 'account'],
  ['header and body ids differ', debit({ id: 'one' }), 400, 'id_mismatch', 'id', { 'Idempotency-Key': 'two' }],
  ['Idempotency-Key too long', debit({}), 400, 'out_of_range', 'Idempotency-Key', { 'Idempotency-Key': 'k'.repeat(129) }],
  ['Idempotency-Key with a space', debit({}), 400, 'invalid_format', 'Idempotency-Key', { 'Idempotency-Key': 'a b' }],
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
      const r = await fetch(`${p.ingestUrl}/v1/transactions`, { method: 'POST', headers: { 'content-type': type }, body: debit({}) });
      expect(r.status).toBe(415);
      expect((await r.json()).code).toBe('unsupported_media_type');
    }
    const none = await fetch(`${p.ingestUrl}/v1/transactions`, { method: 'POST', body: new Blob([debit({})]) });
    expect(none.status).toBe(415);
  });

  it('an internal step type is refused like an unknown one', async () => {
    const r = await p.post(debit({ type: 'wallet.nope' }));
    expect(r.body).toMatchObject({ code: 'unknown_type', field: 'type' });
  });

  it('nothing above reached Kafka', async () => {
    const admin = p.kafka.admin();
    await admin.connect();
    for (const topic of Object.values(p.topics)) {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.every((o) => o.high === '0'), `${topic} is empty`).toBe(true);
    }
    await admin.disconnect();
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
