// What an API key may do: the transaction types it may post, whether it may read, and the entities it may
// name. Pure functions: the key's record says, these decide.
import { z } from 'zod';
import { domains } from '../common/domains.ts';
import { publicTypes, type Message } from '../common/messages/index.ts';
import { ApiError } from './errors.ts';

/**
 * `own`: the key's producer reads the transactions it sent (and any entity's state within its prefix);
 * `all`: any producer's transactions too; `none`: no GET /v1 route.
 */
export const ReadScope = z.enum(['none', 'own', 'all']);
export type ReadScope = z.infer<typeof ReadScope>;

/** A type pattern: `*` (every public type), `<domain>.*`, or one public type. */
export const TypePattern = z
  .string()
  .refine(
    (t) =>
      t === '*' ||
      (t.endsWith('.*') && (domains as readonly string[]).includes(t.slice(0, -2))) ||
      (publicTypes as string[]).includes(t),
    { message: `must be *, <domain>.* (${domains.join(', ')}) or a transaction type` },
  );

export const Scope = z.strictObject({
  types: z.array(TypePattern),
  read: ReadScope.default('own'),
  /** When set, every entity a transaction names (account, from, to, sku, event) and every entity read starts with it. */
  entityPrefix: z.string().min(1).max(64).optional(),
});
export type Scope = z.infer<typeof Scope>;

/** Every type, every read, every entity: the scope of TXPIPE_AUTH=off and of the development key. */
export const fullScope: Scope = { types: ['*'], read: 'all' };

/** `'stock.*,seats.reserve'` -> its patterns, or the reason it is not a list of them. */
export function parseTypes(list: string): string[] {
  const types = list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (!types.length) throw new Error('a scope lists at least one type pattern');
  for (const t of types) {
    const r = TypePattern.safeParse(t);
    if (!r.success) throw new Error(`scope ${t}: ${r.error.issues[0]!.message}`);
  }
  return types;
}

export function typeAllowed(scope: Scope, type: string): boolean {
  return scope.types.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/** The fields of public types that name an entity. */
const entityFields = ['account', 'from', 'to', 'sku', 'event'] as const;

/** The refusal of a transaction outside the scope (403 naming the field), or undefined. `prefix`: the item's path in a batch. */
export function checkTransaction(scope: Scope, m: Message, prefix = ''): ApiError | undefined {
  const at = (f: string) => [prefix, f].filter(Boolean).join('.');
  if (!typeAllowed(scope, m.type)) return new ApiError(403, 'forbidden', `this key may not post ${m.type}`, at('type'));
  if (scope.entityPrefix === undefined) return undefined;
  for (const f of entityFields) {
    const v = (m as Record<string, unknown>)[f];
    if (typeof v === 'string' && !v.startsWith(scope.entityPrefix)) {
      return new ApiError(
        403,
        'forbidden',
        `this key may name only entities starting with ${scope.entityPrefix}`,
        at(f),
      );
    }
  }
  return undefined;
}

/** The refusal of a read outside the scope, or undefined. `entity`: the entity read and its field, if any. */
export function checkRead(scope: Scope, entity?: { field: string; value: string }): ApiError | undefined {
  if (scope.read === 'none') return new ApiError(403, 'forbidden', 'this key may not read', undefined);
  if (entity && scope.entityPrefix !== undefined && !entity.value.startsWith(scope.entityPrefix)) {
    return new ApiError(
      403,
      'forbidden',
      `this key may read only entities starting with ${scope.entityPrefix}`,
      entity.field,
    );
  }
  return undefined;
}
