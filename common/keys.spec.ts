// Key names: every key of an entity in its hash tag (one slot per script), and no client id can name a step.
import { expect, it } from 'vitest';
import { domains } from './domains.ts';
import {
  customersKey,
  dlqReplaysKey,
  entityKey,
  expiringKey,
  flagKey,
  holdKey,
  legacyExpiringKey,
  statusKey,
  stepSeparator,
  watermarkField,
  watermarkKey,
} from './keys.ts';

/** The hash tag Redis Cluster hashes: the text between the first `{` and the next `}`. */
const tagOf = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}', key.indexOf('{')));

it('every key of an entity carries the entity as its hash tag', () => {
  for (const d of domains) {
    for (const key of [
      entityKey(d, 'E-1'),
      holdKey(d, 'E-1', 'H:1'),
      flagKey(d, 'E-1', 'T1'),
      flagKey(d, 'E-1', 'T1', 'credit', 'src'),
    ]) {
      expect(tagOf(key), key).toBe('E-1');
      expect(key.startsWith(`${d}:{E-1}`), key).toBe(true);
    }
  }
  expect(tagOf(customersKey('sku-7'))).toBe('sku-7');
});

it('the names the README and the Lua headers give', () => {
  expect(entityKey('wallet', 'acct-42')).toBe('wallet:{acct-42}');
  expect(holdKey('stock', 'sku-7', 'r1')).toBe('stock:{sku-7}:hold:r1');
  expect(customersKey('sku-7')).toBe('stock:{sku-7}:customers');
  expect(flagKey('wallet', 'acct-42', 'T1')).toBe('wallet:{acct-42}:tx:T1');
  expect(flagKey('wallet', 'b', 'T1', 'credit', 'a')).toBe(`wallet:{b}:tx:T1${stepSeparator}credit${stepSeparator}a`);
  expect(statusKey('T1')).toBe('tx:{T1}');
  expect(expiringKey('txpipe.wallet', 3)).toBe('expiring:{txpipe.wallet/3}');
  expect(legacyExpiringKey('txpipe.wallet')).toBe('expiring:{txpipe.wallet}');
  expect(watermarkKey()).toBe('watermarks:{0}');
  expect(watermarkField('txpipe.stock', 3)).toBe('txpipe.stock/3');
  expect(dlqReplaysKey('txpipe.dlq')).toBe('dlq-replays:{txpipe.dlq}');
});

it("a step's flag is no transaction's own flag", () => {
  expect(flagKey('wallet', 'a', 'T1', 'settle')).not.toBe(flagKey('wallet', 'a', 'T1:settle'));
  expect(flagKey('wallet', 'a', 'T1', 'settle')).not.toBe(flagKey('wallet', 'a', 'T1'));
});
