// An entity's history (GET .../entries): the entries its Lua scripts recorded with each change
// (lua/includes/tx.lua txRecord), newest first, a page at a time. The cursor is the offset of the last
// entry of the page before: an entity's entries are scored by their messages' offsets.
import type { Request } from 'express';
import type { RedisClient as Redis } from '../common/redis.ts';
import type { Domain } from '../common/domains.ts';
import { entityKey, entriesKey } from '../common/keys.ts';
import { limits } from '../common/limits.ts';
import { dropIfTimedOut } from '../common/redis.ts';
import { ApiError } from './errors.ts';

export interface Page {
  /** Newest first, at most `limit`. */
  entries: Array<Record<string, unknown>>;
  /** Pass as `cursor` for the next (older) page; null on the last one. */
  next: string | null;
}

/** `limit` (1..maxEntriesPage, default defaultEntriesPage) and `cursor` (an offset) of the query. */
export function pageParams(req: Request): { limit: number; cursor?: string } {
  const { limit, cursor } = req.query;
  let n: number = limits.defaultEntriesPage;
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,6}$/.test(limit))
      throw new ApiError(400, 'invalid_value', 'limit must be a whole number', 'limit');
    n = Number(limit);
    if (n < 1 || n > limits.maxEntriesPage)
      throw new ApiError(400, 'out_of_range', `limit must be 1 to ${limits.maxEntriesPage}`, 'limit');
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || !/^\d{1,16}$/.test(cursor))) {
    throw new ApiError(400, 'invalid_value', 'cursor must be the `next` of a previous page', 'cursor');
  }
  return { limit: n, ...(cursor !== undefined && { cursor }) };
}

const ints = (values: string[]) => values.map(Number);

/** One stored entry '<time>-<offset> <id> <type> <values...>' as the API shows it, by domain. */
function parse(domain: Domain, member: string): Record<string, unknown> {
  const [entry, id, type, ...values] = member.split(' ') as [string, string, string, ...string[]];
  const at = Number(entry.slice(0, entry.indexOf('-')));
  const head = { entry, id, type, at };
  if (domain === 'wallet') {
    const [amount, balance, available] = ints(values);
    return { ...head, amount, balance, available };
  }
  if (domain === 'stock') {
    const [available, reserved, sold, dAvailable, dReserved, dSold] = ints(values);
    return { ...head, available, reserved, sold, change: { available: dAvailable, reserved: dReserved, sold: dSold } };
  }
  const [change, ...rest] = values as [string, ...string[]];
  return change === 'defined' ? { ...head, change, seats: Number(rest[0]) } : { ...head, change, seats: rest };
}

/** A page of the entity's entries; 404 when the entity does not exist. */
export async function readEntries(
  redis: Redis,
  domain: Domain,
  entity: string,
  field: string,
  page: { limit: number; cursor?: string },
): Promise<Page> {
  const key = entriesKey(domain, entity);
  const max = page.cursor === undefined ? '+inf' : `(${page.cursor}`;
  const replies = await redis
    .pipeline()
    .zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', 0, page.limit + 1)
    .exists(entityKey(domain, entity))
    .exec()
    .catch((e: Error) => {
      dropIfTimedOut(redis, e);
      throw new ApiError(503, 'redis_unavailable', `Redis did not answer (${e.message}); retry later`, undefined, 1);
    });
  const failed = replies?.find(([err]) => err);
  if (!replies || failed)
    throw new ApiError(
      503,
      'redis_unavailable',
      `Redis did not answer (${failed?.[0]?.message ?? 'no reply'}); retry later`,
      undefined,
      1,
    );
  const [[, flat], [, exists]] = replies as [[null, string[]], [null, number]];
  if (!flat.length && !exists) throw new ApiError(404, 'not_found', `no ${field} ${entity}`, field);
  const rows: Array<{ member: string; score: string }> = [];
  for (let i = 0; i < flat.length; i += 2) rows.push({ member: flat[i]!, score: flat[i + 1]! });
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  return { entries: shown.map((r) => parse(domain, r.member)), next: more ? shown.at(-1)!.score : null };
}
