// The payload digest beside each idempotency flag: the same payload always gives the same digest (also
// re-parsed, with its keys in another order), another payload another one.
import { expect, it } from 'vitest';
import { anyMessage, digestOf, encodeMessage } from './index.ts';

const parse = (o: object) => anyMessage.parse(o);

it('is canonical: key order of the input does not matter once parsed', () => {
  const a = parse({ id: 'T1', type: 'wallet.debit', account: 'a', amount: 5 });
  const b = parse({ amount: 5, account: 'a', type: 'wallet.debit', id: 'T1' });
  expect(digestOf(a)).toBe(digestOf(b));
  expect(digestOf(parse(JSON.parse(encodeMessage(a).toString())))).toBe(digestOf(a));
});

it('differs for another payload under the same id', () => {
  const base = { id: 'T1', type: 'wallet.debit', account: 'a', amount: 5 };
  const digests = [base, { ...base, amount: 6 }, { ...base, account: 'b' }, { ...base, type: 'wallet.credit' }].map(
    (m) => digestOf(parse(m)),
  );
  expect(new Set(digests).size).toBe(digests.length);
});

it('is 22 base64url characters (128 bits)', () => {
  expect(digestOf(parse({ id: 'T1', type: 'wallet.open', account: 'a' }))).toMatch(/^[A-Za-z0-9_-]{22}$/);
});
