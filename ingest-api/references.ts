// Checks that need Redis: what a transaction names must exist. A seat must be in its event's map, a
// capture, void, confirm or release must name a hold (or reservation) that exists on its entity, or one
// still on its way through the pipeline (accepted, not yet applied: a client may hold then capture at once).
// Advisory: the Lua script decides again, atomically; when Redis does not answer, the check is skipped.
import type { RedisClient as Redis } from '../common/redis.ts';
import { clientIdOf, entityKey, holdKey, statusKey } from '../common/keys.ts';
import { readStatusFields, statusFields } from '../common/status.ts';
import { domainRegistry, type HoldName } from '../common/domains.ts';
import { entityOf, type Message } from '../common/messages/index.ts';
import { ApiError } from './errors.ts';

type Reference =
  | { kind: 'hold'; key: string; id: string; field: HoldName; code: `unknown_${HoldName}`; on: string }
  | { kind: 'seats'; key: string; seats: string[]; event: string };

/** A message naming its domain's hold (common/domains.ts: capture, void, confirm, release) refers to it. */
function referenceOf(m: Message): Reference | undefined {
  if (m.type === 'seats.hold')
    return { kind: 'seats', key: entityKey('seats', m.event), seats: m.seats, event: m.event };
  const { domain, entity } = entityOf(m);
  const { hold: field, entity: entityName } = domainRegistry[domain];
  const id = (m as Record<string, unknown>)[field];
  if (typeof id !== 'string') return undefined;
  return {
    kind: 'hold',
    key: holdKey(domain, entity, id),
    id,
    field,
    code: `unknown_${field}`,
    on: `${entityName} ${entity}`,
  };
}

/**
 * One ApiError (422) or undefined per item; `prefix` is the item's field path in a batch. A hold created
 * by another item of the same batch is on its way too (a batch may hold, then capture).
 */
export async function checkReferences(
  redis: Redis,
  items: Array<{ message: Message; prefix: string }>,
): Promise<Array<ApiError | undefined>> {
  const batchIds = new Set(items.map((it) => it.message.id));
  const refs = items.map((it) => {
    const ref = referenceOf(it.message);
    return ref?.kind === 'hold' && batchIds.has(ref.id) ? undefined : ref;
  });
  if (!refs.some(Boolean)) return items.map(() => undefined);
  let replies: Array<[Error | null, unknown]>;
  try {
    const p = redis.pipeline();
    for (const ref of refs) {
      if (ref?.kind === 'hold') p.exists(ref.key).hmget(statusKey(ref.id), ...statusFields);
      else if (ref?.kind === 'seats') p.exists(ref.key).hmget(ref.key, ...ref.seats);
    }
    replies = ((await p.exec()) ?? []) as Array<[Error | null, unknown]>;
  } catch {
    return items.map(() => undefined);
  }
  let r = 0;
  return refs.map((ref, i) => {
    if (!ref) return undefined;
    const [e1, exists] = replies[r++]!;
    const [e2, fields] = replies[r++]!;
    if (e1 || e2) return undefined;
    const at = (f: string) => [items[i]!.prefix, f].filter(Boolean).join('.');
    if (ref.kind === 'seats') {
      // An event not defined yet (its definition may be on its way) is left to the script: event_not_found.
      if (exists !== 1) return undefined;
      const missing = (fields as Array<string | null>).findIndex((v) => v === null);
      if (missing < 0) return undefined;
      return new ApiError(
        422,
        'unknown_seat',
        `seat ${ref.seats[missing]} is not in the seat map of event ${ref.event}`,
        at(`seats.${missing}`),
      );
    }
    if (exists === 1) return undefined;
    // Its transaction accepted and not yet decided: the hold is on its way.
    const record = readStatusFields(fields as Array<string | null>);
    if (record?.claim && !record.outcome) return undefined;
    return new ApiError(422, ref.code, `no ${ref.field} ${clientIdOf(ref.id)} on ${ref.on}`, at(ref.field));
  });
}
