import { describe, expect, it } from 'vitest';
import { customersKey, entityKey, flagKey, holdKey } from '../common/keys.ts';
import { classifyKey } from './verify-keys.ts';

describe('classifyKey reads back what common/keys.ts builds', () => {
  it('entities, holds, customers and transfer debits', () => {
    expect(classifyKey(entityKey('wallet', 'a:1'))).toEqual({ kind: 'account', entity: 'a:1' });
    expect(classifyKey(entityKey('stock', 's'))).toEqual({ kind: 'sku', entity: 's' });
    expect(classifyKey(entityKey('seats', 'e'))).toEqual({ kind: 'event', entity: 'e' });
    expect(classifyKey(holdKey('wallet', 'a', 'H:1'))).toEqual({
      kind: 'hold',
      domain: 'wallet',
      entity: 'a',
      hold: 'H:1',
    });
    expect(classifyKey(customersKey('s'))).toEqual({ kind: 'customers', entity: 's' });
    expect(classifyKey(flagKey('wallet', 'a', 'T1:settle', 'debit'))).toEqual({
      kind: 'transferDebit',
      entity: 'a',
      id: 'T1:settle',
    });
  });

  it('ignores flags, other steps, status records and the index', () => {
    for (const key of [
      flagKey('wallet', 'a', 'T1'),
      flagKey('wallet', 'a', 'T1', 'settle'),
      flagKey('wallet', 'b', 'T1', 'credit', 'a'),
      flagKey('wallet', 'a', 'T1:debit'),
      'tx:{T1}',
      'expiring:{txpipe.wallet}',
      'watermarks:{0}',
      'stock:{s}:customers:x',
    ])
      expect(classifyKey(key), key).toBeUndefined();
  });
});
