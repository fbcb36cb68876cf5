// Scopes without a server: type patterns, entity prefixes, reads.
import { describe, expect, it } from 'vitest';
import type { Message } from '../common/messages/index.ts';
import { checkRead, checkTransaction, parseTypes, typeAllowed, type Scope } from './scope.ts';

const scope = (types: string[], more: Partial<Scope> = {}): Scope => ({ types, read: 'own', ...more });

describe('scopes', () => {
  it('a pattern is *, <domain>.* or a public type; anything else is refused when the key is made', () => {
    expect(parseTypes('stock.*, seats.*')).toEqual(['stock.*', 'seats.*']);
    expect(parseTypes('wallet.debit')).toEqual(['wallet.debit']);
    expect(() => parseTypes('')).toThrow(/at least one/);
    expect(() => parseTypes('ledger.*')).toThrow(/ledger\.\*/);
    expect(() => parseTypes('wallet.expire')).toThrow(/wallet\.expire/);
    expect(() => parseTypes('wallet.d*')).toThrow();
  });

  it('types: * matches all, <domain>.* its domain only, an exact type itself only', () => {
    expect(typeAllowed(scope(['*']), 'seats.hold')).toBe(true);
    expect(typeAllowed(scope(['stock.*']), 'stock.reserve')).toBe(true);
    expect(typeAllowed(scope(['stock.*']), 'seats.hold')).toBe(false);
    expect(typeAllowed(scope(['stock.reserve']), 'stock.reserve')).toBe(true);
    expect(typeAllowed(scope(['stock.reserve']), 'stock.release')).toBe(false);
    // `wallet.*` never matches a type merely starting with "wallet" (no such type, but the rule is a dot).
    expect(typeAllowed(scope(['wallet.*']), 'walletx.debit')).toBe(false);
  });

  it('a transaction outside the scope is refused 403 naming the field: type, or the entity outside the prefix', () => {
    const hold = { id: 'h', type: 'seats.hold', event: 'gig-1', seats: ['A1'], holder: 'c', ttl: 60_000 } as Message;
    expect(checkTransaction(scope(['seats.*'], { entityPrefix: 'gig-' }), hold)).toBeUndefined();
    expect(checkTransaction(scope(['stock.*']), hold)).toMatchObject({ status: 403, code: 'forbidden', field: 'type' });
    const other = { ...hold, event: 'opera-1' } as Message;
    expect(checkTransaction(scope(['seats.*'], { entityPrefix: 'gig-' }), other)).toMatchObject({
      status: 403,
      code: 'forbidden',
      field: 'event',
    });
    // A transfer names two entities: both must be inside.
    const transfer = { id: 't', type: 'wallet.transfer', from: 'eu-a', to: 'us-b', amount: 1 } as Message;
    expect(checkTransaction(scope(['wallet.*'], { entityPrefix: 'eu-' }), transfer, 'transactions.3')).toMatchObject({
      field: 'transactions.3.to',
    });
  });

  it('reads: none refuses every read; an entity outside the prefix is refused naming its field', () => {
    expect(checkRead(scope(['*'], { read: 'none' }))).toMatchObject({ status: 403, code: 'forbidden' });
    expect(checkRead(scope(['*']))).toBeUndefined();
    expect(checkRead(scope(['*'], { entityPrefix: 'gig-' }), { field: 'event', value: 'gig-2' })).toBeUndefined();
    expect(checkRead(scope(['*'], { entityPrefix: 'gig-' }), { field: 'event', value: 'opera' })).toMatchObject({
      field: 'event',
    });
  });
});
