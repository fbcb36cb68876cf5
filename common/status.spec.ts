// The status record's layout: what the processor and ingest write reads back as GET /v1/transactions/:id
// answers, and records of the layout before still read the same.
import type { ChainableCommander } from 'ioredis';
import { expect, it } from 'vitest';
import { readStatus, writeOutcome, writeStep, type Outcome } from './status.ts';

/** Captures the HSET of a write function as the hash it leaves (no Redis needed). */
function written(write: (p: ChainableCommander) => void): Record<string, string> {
  const h: Record<string, string> = {};
  const p = {
    hset: (_key: string, fields: Record<string, string | number> | string, value?: string) => {
      if (typeof fields === 'string') h[fields] = value!;
      else for (const [k, v] of Object.entries(fields)) h[k] = String(v);
    },
    pexpire: () => undefined,
  } as unknown as ChainableCommander;
  write(p);
  return h;
}

const outcome: Outcome = {
  id: 'shop~order-17',
  producer: 'shop',
  type: 'wallet.debit',
  status: 'rejected',
  code: 'insufficient_funds',
  result: { balance: -5, available: 9007199254740991 },
  ingestedAt: 1765100000000,
  appliedAt: 1765100000042,
  duplicate: false,
};

it('an outcome reads back as written, its producer from the id', () => {
  const h: Record<string, string> = {
    d: 'AbCdEfGhIjKlMnOpQrStUv',
    c: 'a',
    ...written((p) => writeOutcome(p, outcome, 1000)),
  };
  expect(h.p).toBeUndefined();
  expect(readStatus(h, outcome.id)).toEqual({
    digest: 'AbCdEfGhIjKlMnOpQrStUv',
    claim: { state: 'accepted' },
    producer: 'shop',
    conflicts: [],
    outcome: {
      type: 'wallet.debit',
      status: 'rejected',
      code: 'insufficient_funds',
      result: { balance: -5, available: 9007199254740991 },
      ingestedAt: 1765100000000,
      appliedAt: 1765100000042,
    },
  });
});

it('a producer its id does not name is recorded; an empty result reads as {}', () => {
  const h = written((p) => writeOutcome(p, { ...outcome, id: 'order-17', producer: 'test', result: {} }, 1000));
  const r = readStatus(h, 'order-17')!;
  expect(r.producer).toBe('test');
  expect(r.outcome!.result).toEqual({});
});

it('each field stays within a compact listpack (values up to 64 bytes) for a typical outcome', () => {
  const h = written((p) =>
    writeOutcome(p, { ...outcome, type: 'stock.reserve', result: { available: 98, reserved: 2, sold: 123456 } }, 1),
  );
  for (const v of Object.values(h)) expect(v.length).toBeLessThanOrEqual(64);
});

it('a step under way reads as pending with its type and step', () => {
  const h = { d: 'x', c: 'a', ...written((p) => writeStep(p, 'T1', 'wallet.transfer', 'credit', 1000)) };
  expect(readStatus(h, 'T1')).toMatchObject({ step: { type: 'wallet.transfer', step: 'credit' } });
  expect(readStatus(h, 'T1')!.outcome).toBeUndefined();
});

it('a claim in flight reads with its deadline', () => {
  expect(readStatus({ d: 'x', c: '1765100030000' })!.claim).toEqual({ state: 'inflight', until: 1765100030000 });
});

it('an empty record (HGETALL of a missing key) is none', () => {
  expect(readStatus({})).toBeUndefined();
});

it('the layout before reads the same: claim, outcome, producer, step and conflicts', () => {
  const old = {
    digest: 'AbCdEfGhIjKlMnOpQrStUv',
    state: 'accepted',
    until: '1765100030000',
    type: 'wallet.debit',
    status: 'rejected',
    code: 'insufficient_funds',
    result: '{"balance":-5,"available":9007199254740991}',
    ingestedAt: '1765100000000',
    appliedAt: '1765100000042',
    producer: 'shop',
    'conflict:OtherDigest': 'wallet.credit 1765100000500',
  };
  const current = {
    d: 'AbCdEfGhIjKlMnOpQrStUv',
    c: 'a',
    ...written((p) => writeOutcome(p, outcome, 1000)),
    'conflict:OtherDigest': 'wallet.credit 1765100000500',
  };
  expect(readStatus(old, outcome.id)).toEqual(readStatus(current, outcome.id));
  expect(readStatus({ digest: 'x', state: 'inflight', until: '5' })!.claim).toEqual({ state: 'inflight', until: 5 });
  expect(readStatus({ digest: 'x', state: 'accepted', type: 'wallet.transfer', step: 'credit' })).toMatchObject({
    step: { type: 'wallet.transfer', step: 'credit' },
  });
});
