// Bad input, without a server: the body's bytes go through the route handler's own steps (body.ts's decoding,
// then acceptTransaction: I-JSON issues, parseTransaction), and must be refused before the accept window.
// A 4xx with a stable code and the offending field. The reference checks (422s) need Redis and are tested
// over HTTP (test/domains-bad-input.test.ts), like one case of every code (test/bad-input.test.ts).
import { describe, expect, it } from 'vitest';
import { limits } from '../common/limits.ts';
import { createLogger } from '../common/log.ts';
import { messageTypes, publicTypes, type MessageTypeName } from '../common/messages/index.ts';
import { decodeJson } from './body.ts';
import { ApiError } from './errors.ts';
import { acceptTransaction, type TransactionDeps } from './hot-path.ts';
import { anonymous } from './auth.ts';
import { parseBatch, parseTransaction } from './parse.ts';

const deps = {
  window: {
    accept: () => {
      throw new Error('a refused transaction reached the accept window');
    },
  },
  log: createLogger('ingest-api'),
} as unknown as TransactionDeps;

/** The refusal a body gets, as the client sees it. */
async function refusal(
  body: string | Buffer | object,
  headers: { contentType?: string; idempotencyKey?: string } = {},
) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  try {
    await acceptTransaction(
      deps,
      decodeJson(raw, headers.contentType ?? 'application/json'),
      headers.idempotencyKey,
      anonymous,
    );
  } catch (e) {
    if (e instanceof ApiError) return { status: e.status, ...e.toJSON() };
    throw e;
  }
  throw new Error('not refused');
}

const debit = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: 'wallet.debit', account: 'acct-1', amount: 5, ...fields });
const account = 'acct-1',
  event = 'event-1',
  sku = 'sku-1';
const hour = 3_600_000;

type Case = [
  name: string,
  body: string | object,
  status: number,
  code: string,
  field?: string,
  headers?: { contentType?: string; idempotencyKey?: string },
];

/** The body and its JSON, whatever the type. */
const bodyCases: Case[] = [
  ['body not JSON', '{"type":"wallet.debit",', 400, 'invalid_json'],
  ['body empty', '', 400, 'invalid_json'],
  ['body only whitespace', ' \n ', 400, 'invalid_json'],
  ['amount 1.0 (a fraction)', '{"type":"wallet.debit","account":"a","amount":1.0}', 400, 'not_an_integer', 'amount'],
  ['amount 1e3 (an exponent)', '{"type":"wallet.debit","account":"a","amount":1e3}', 400, 'not_an_integer', 'amount'],
  [
    'amount 1.0000000000000001 (parses as 1)',
    '{"type":"wallet.debit","account":"a","amount":1.0000000000000001}',
    400,
    'not_an_integer',
    'amount',
  ],
  ['ttl 6e4', '{"type":"wallet.hold","account":"a","amount":1,"ttl":6e4}', 400, 'not_an_integer', 'ttl'],
  ['amount twice', '{"type":"wallet.debit","account":"a","amount":1,"amount":7}', 400, 'duplicate_key', 'amount'],
  [
    'type twice, spelled with an escape',
    '{"type":"wallet.debit","\\u0074ype":"wallet.credit","account":"a","amount":1}',
    400,
    'duplicate_key',
    'type',
  ],
  [
    'charset=utf-16',
    debit({}),
    415,
    'unsupported_media_type',
    undefined,
    { contentType: 'application/json; charset=utf-16' },
  ],
  [
    'charset=latin1',
    debit({}),
    415,
    'unsupported_media_type',
    undefined,
    { contentType: 'application/json; charset=latin1' },
  ],
  ['body a JSON array', '[1,2]', 400, 'not_an_object'],
  ['body JSON null', 'null', 400, 'not_an_object'],
  ['unknown type', debit({ type: 'wallet.teleport' }), 400, 'unknown_type', 'type'],
  ['missing type', { account: 'a', amount: 1 }, 400, 'missing_field', 'type'],
  ['id empty', debit({ id: '' }), 400, 'out_of_range', 'id'],
  ['id too long', debit({ id: 'i'.repeat(limits.maxIdLength + 1) }), 400, 'out_of_range', 'id'],
  ['id with a control character', debit({ id: 'a\u0001b' }), 400, 'invalid_format', 'id'],
  ['id not a string', debit({ id: 12 }), 400, 'wrong_type', 'id'],
  ['header and body ids differ', debit({ id: 'one' }), 400, 'id_mismatch', 'id', { idempotencyKey: 'two' }],
  [
    'Idempotency-Key too long',
    debit({}),
    400,
    'out_of_range',
    'Idempotency-Key',
    { idempotencyKey: 'k'.repeat(limits.maxIdLength + 1) },
  ],
  ['Idempotency-Key with a space', debit({}), 400, 'invalid_format', 'Idempotency-Key', { idempotencyKey: 'a b' }],
];

/** Each type's own fields: at least one case for every public type (checked below). */
const typeCases: Case[] = [
  ['missing amount', { type: 'wallet.debit', account: 'a' }, 400, 'missing_field', 'amount'],
  ['missing account', { type: 'wallet.credit', amount: 1 }, 400, 'missing_field', 'account'],
  ['extra field', debit({ note: 'hi' }), 400, 'unknown_field', 'note'],
  ['amount as a string', debit({ amount: '5' }), 400, 'wrong_type', 'amount'],
  ['amount as a float', debit({ amount: 1.5 }), 400, 'not_an_integer', 'amount'],
  ['amount zero', debit({ amount: 0 }), 400, 'out_of_range', 'amount'],
  ['amount negative', debit({ amount: -3 }), 400, 'out_of_range', 'amount'],
  [
    'amount above 2^53-1',
    '{"type":"wallet.debit","account":"a","amount":9007199254740993}',
    400,
    'out_of_range',
    'amount',
  ],
  ['amount 1e400 (Infinity)', '{"type":"wallet.debit","account":"a","amount":1e400}', 400, 'not_an_integer', 'amount'],
  ['amount "NaN"', debit({ amount: 'NaN' }), 400, 'wrong_type', 'amount'],
  ['amount null', debit({ amount: null }), 400, 'wrong_type', 'amount'],
  ['amount boolean', debit({ amount: true }), 400, 'wrong_type', 'amount'],
  ['overdraft negative', { type: 'wallet.open', account: 'a', overdraft: -1 }, 400, 'out_of_range', 'overdraft'],
  ['account with a hash tag brace', debit({ account: 'a{b}' }), 400, 'invalid_format', 'account'],
  ['account empty', debit({ account: '' }), 400, 'out_of_range', 'account'],
  [
    'wallet.transfer to itself',
    { type: 'wallet.transfer', from: account, to: account, amount: 5 },
    400,
    'self_transfer',
    'to',
  ],
  [
    'wallet.transfer amount 0',
    { type: 'wallet.transfer', from: account, to: 'b', amount: 0 },
    400,
    'out_of_range',
    'amount',
  ],
  ['wallet.transfer without to', { type: 'wallet.transfer', from: account, amount: 5 }, 400, 'missing_field', 'to'],
  [
    'wallet.transfer with a step field',
    { type: 'wallet.transfer', from: account, to: 'b', amount: 5, reason: 'x' },
    400,
    'unknown_field',
    'reason',
  ],
  [
    'wallet.hold ttl below the minimum',
    { type: 'wallet.hold', account, amount: 5, ttl: limits.minTtlMs - 1 },
    400,
    'out_of_range',
    'ttl',
  ],
  [
    'wallet.hold ttl above the maximum',
    { type: 'wallet.hold', account, amount: 5, ttl: limits.maxTtlMs + 1 },
    400,
    'out_of_range',
    'ttl',
  ],
  ['wallet.hold ttl a float', { type: 'wallet.hold', account, amount: 5, ttl: 1500.5 }, 400, 'not_an_integer', 'ttl'],
  ['wallet.hold without ttl', { type: 'wallet.hold', account, amount: 5 }, 400, 'missing_field', 'ttl'],
  ['wallet.hold amount 0', { type: 'wallet.hold', account, amount: 0, ttl: hour }, 400, 'out_of_range', 'amount'],
  ['wallet.capture amount 0', { type: 'wallet.capture', account, hold: 'h', amount: 0 }, 400, 'out_of_range', 'amount'],
  ['wallet.capture without hold', { type: 'wallet.capture', account }, 400, 'missing_field', 'hold'],
  ['wallet.void without account', { type: 'wallet.void', hold: 'h' }, 400, 'missing_field', 'account'],
  ['wallet.close with an amount', { type: 'wallet.close', account, amount: 1 }, 400, 'unknown_field', 'amount'],
  ['stock.set quantity 0', { type: 'stock.set', sku, quantity: 0 }, 400, 'out_of_range', 'quantity'],
  [
    'stock.set perCustomerLimit negative (0 removes the limit)',
    { type: 'stock.set', sku, quantity: 5, perCustomerLimit: -1 },
    400,
    'out_of_range',
    'perCustomerLimit',
  ],
  ['stock.restock quantity 0', { type: 'stock.restock', sku, quantity: 0 }, 400, 'out_of_range', 'quantity'],
  ['stock.restock quantity a string', { type: 'stock.restock', sku, quantity: '5' }, 400, 'wrong_type', 'quantity'],
  [
    'stock.reserve quantity 0',
    { type: 'stock.reserve', sku, quantity: 0, customer: 'c', ttl: hour },
    400,
    'out_of_range',
    'quantity',
  ],
  [
    'stock.reserve ttl 0',
    { type: 'stock.reserve', sku, quantity: 1, customer: 'c', ttl: 0 },
    400,
    'out_of_range',
    'ttl',
  ],
  [
    'stock.reserve ttl above the maximum',
    { type: 'stock.reserve', sku, quantity: 1, customer: 'c', ttl: limits.maxTtlMs + 1 },
    400,
    'out_of_range',
    'ttl',
  ],
  [
    'stock.reserve without customer',
    { type: 'stock.reserve', sku, quantity: 1, ttl: hour },
    400,
    'missing_field',
    'customer',
  ],
  ['stock.confirm without reservation', { type: 'stock.confirm', sku }, 400, 'missing_field', 'reservation'],
  [
    'stock.release with a quantity',
    { type: 'stock.release', sku, reservation: 'r', quantity: 1 },
    400,
    'unknown_field',
    'quantity',
  ],
  ['seats.define with no seats', { type: 'seats.define', event, seats: [] }, 400, 'out_of_range', 'seats'],
  [
    'seats.define with a duplicate seat',
    { type: 'seats.define', event, seats: ['A1', 'A2', 'A1'] },
    400,
    'duplicate_seat',
    'seats.2',
  ],
  ['seats.define seats not a list', { type: 'seats.define', event, seats: 'A1' }, 400, 'wrong_type', 'seats'],
  [
    'seats.define a seat id with a space',
    { type: 'seats.define', event, seats: ['A 1'] },
    400,
    'invalid_format',
    'seats.0',
  ],
  [
    'seats.define over the seats-per-event limit',
    { type: 'seats.define', event, seats: Array.from({ length: limits.maxSeatsPerEvent + 1 }, (_, i) => `${i}`) },
    400,
    'out_of_range',
    'seats',
  ],
  [
    'seats.hold with no seats',
    { type: 'seats.hold', event, seats: [], holder: 'h', ttl: hour },
    400,
    'out_of_range',
    'seats',
  ],
  [
    'seats.hold with a duplicate seat',
    { type: 'seats.hold', event, seats: ['A2', 'A2'], holder: 'h', ttl: hour },
    400,
    'duplicate_seat',
    'seats.1',
  ],
  [
    'seats.hold over the seats-per-hold limit',
    {
      type: 'seats.hold',
      event,
      seats: Array.from({ length: limits.maxSeatsPerHold + 1 }, (_, i) => `S${i}`),
      holder: 'h',
      ttl: hour,
    },
    400,
    'out_of_range',
    'seats',
  ],
  [
    'seats.hold ttl below the minimum',
    { type: 'seats.hold', event, seats: ['A1'], holder: 'h', ttl: 10 },
    400,
    'out_of_range',
    'ttl',
  ],
  [
    'seats.hold without holder',
    { type: 'seats.hold', event, seats: ['A1'], ttl: hour },
    400,
    'missing_field',
    'holder',
  ],
  ['seats.confirm without hold', { type: 'seats.confirm', event }, 400, 'missing_field', 'hold'],
  ['seats.release without event', { type: 'seats.release', hold: 'h' }, 400, 'missing_field', 'event'],
];

/** Internal steps are the processor's own: a client naming one is refused like an unknown type. */
const internalCases: Case[] = (Object.keys(messageTypes) as MessageTypeName[])
  .filter((t) => !messageTypes[t].public)
  .map((type) => [
    `internal type ${type}`,
    { type, account, from: account, to: 'b', amount: 1, sku, event },
    400,
    'unknown_type',
    'type',
  ]);

describe('bad input is refused before the accept window, naming its field', () => {
  it.each([...bodyCases, ...typeCases, ...internalCases])('%s', async (_name, body, status, code, field, headers) => {
    const r = await refusal(body, headers);
    expect(r).toMatchObject({ status, code });
    expect(r.field).toBe(field);
    expect(typeof r.message).toBe('string');
  });

  it('every public type has a case of its own', () => {
    const typeOf = (body: string | object) =>
      (typeof body === 'string' ? (JSON.parse(body) as { type?: string }) : (body as { type?: string })).type;
    const covered = new Set(typeCases.map(([, body]) => typeOf(body)));
    expect(publicTypes.filter((t) => !covered.has(t))).toEqual([]);
  });

  it('a batch item is refused under its path in the batch', () => {
    expect(() =>
      parseTransaction({ type: 'wallet.debit', account: 'a', amount: 0 }, undefined, 'transactions.3'),
    ).toThrow(expect.objectContaining({ code: 'out_of_range', field: 'transactions.3.amount' }));
    expect(() => parseTransaction('x', undefined, 'transactions.4')).toThrow(
      expect.objectContaining({ code: 'not_an_object', field: 'transactions.4' }),
    );
  });
});

describe('parseBatch: the batch as a whole', () => {
  const refused = (body: unknown) => {
    try {
      parseBatch(body);
    } catch (e) {
      if (e instanceof ApiError) return { status: e.status, ...e.toJSON() };
      throw e;
    }
    throw new Error('not refused');
  };

  it.each([
    ['a JSON array', [], 400, 'not_an_object', undefined],
    ['no transactions', {}, 400, 'missing_field', 'transactions'],
    ['transactions not a list', { transactions: {} }, 400, 'wrong_type', 'transactions'],
    ['a field besides transactions', { transactions: [], x: 1 }, 400, 'unknown_field', 'x'],
    ['no items', { transactions: [] }, 400, 'out_of_range', 'transactions'],
    [
      'too many items',
      { transactions: Array.from({ length: limits.maxBatchItems + 1 }, () => ({})) },
      413,
      'payload_too_large',
      'transactions',
    ],
  ] as const)('%s', (_name, body, status, code, field) => {
    const r = refused(body);
    expect(r).toMatchObject({ status, code });
    expect(r.field).toBe(field);
  });

  it('an I-JSON issue outside the items refuses the batch', () => {
    const { value, issues } = decodeJson(
      Buffer.from('{"transactions":[],"transactions":[]}'),
      'application/json',
      2,
      limits.maxBatchItems + 1,
    );
    expect(() => parseBatch(value, issues)).toThrow(
      expect.objectContaining({ code: 'duplicate_key', field: 'transactions' }),
    );
  });
});
