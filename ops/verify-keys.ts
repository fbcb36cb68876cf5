// Which entity a Redis key belongs to, read back from its name (the inverse of common/keys.ts for the
// keys verify checks). Ids never contain `{`, `}` or `/`, so the hash tag and the step are unambiguous.
import { domainRegistry, isDomain, type Domain, type EntityName } from '../common/domains.ts';
import { stepSeparator } from '../common/keys.ts';

export type KeyKind =
  | { kind: EntityName; entity: string }
  | { kind: 'hold'; domain: Domain; entity: string; hold: string }
  | { kind: 'customers'; entity: string }
  /** A transfer's debit flag on its source: wallet:{<from>}:tx:<id>/debit. */
  | { kind: 'transferDebit'; entity: string; id: string };

const debitSuffix = `${stepSeparator}debit`;

export function classifyKey(key: string): KeyKind | undefined {
  const open = key.indexOf(':{');
  const close = key.indexOf('}', open);
  if (open < 0 || close < 0) return undefined;
  const domain = key.slice(0, open);
  if (!isDomain(domain)) return undefined;
  const entity = key.slice(open + 2, close);
  const rest = key.slice(close + 1);
  if (rest === '') return { kind: domainRegistry[domain].entity, entity };
  if (rest.startsWith(':hold:')) return { kind: 'hold', domain, entity, hold: rest.slice(':hold:'.length) };
  if (domain === 'stock' && rest === ':customers') return { kind: 'customers', entity };
  if (domain === 'wallet' && rest.startsWith(':tx:') && rest.endsWith(debitSuffix)) {
    const id = rest.slice(':tx:'.length, -debitSuffix.length);
    if (!id.includes(stepSeparator)) return { kind: 'transferDebit', entity, id };
  }
  return undefined;
}
