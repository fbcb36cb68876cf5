// Read endpoints: a transaction's status and each domain's state, straight from Redis.
import type { RedisClient as Redis } from '../common/redis.ts';
import type { Domain } from '../common/domains.ts';
import { entityKey, holdKey, statusKey } from '../common/keys.ts';
import { shownId } from './namespace.ts';
import { dropIfTimedOut } from '../common/redis.ts';
import { readStatus } from '../common/status.ts';
import { ApiError } from './errors.ts';

/** A read Redis cannot answer (away, or too slow) is a 503 to retry, never a 500. */
const fromRedis = <T>(redis: Redis, reply: Promise<T>): Promise<T> =>
  reply.catch((e: Error) => {
    dropIfTimedOut(redis, e);
    throw new ApiError(503, 'redis_unavailable', `Redis did not answer (${e.message}); retry later`, undefined, 1);
  });

/** `stored`: the id as stored (in its producer's namespace); `id`: as the reader named it. */
export async function readTransaction(redis: Redis, stored: string, id: string = stored) {
  // Who sent it: recorded with the outcome, and the id's namespace until then.
  const record = readStatus(await fromRedis(redis, redis.hgetall(statusKey(stored))), stored);
  if (!record) throw new ApiError(404, 'not_found', `no transaction ${id}`, 'id');
  const conflicts = record.conflicts.length ? { conflicts: record.conflicts } : {};
  const sender = record.producer === undefined ? {} : { producer: record.producer };
  if (record.outcome) return { id, ...sender, ...record.outcome, ...conflicts };
  return {
    id,
    ...sender,
    ...(record.step?.type && { type: record.step.type }),
    status: 'pending' as const,
    ...(record.step && { step: record.step.step }),
    ...conflicts,
  };
}

export async function readAccount(redis: Redis, account: string) {
  const [balance, held, overdraft, status, outgoing] = await fromRedis(
    redis,
    redis.hmget(entityKey('wallet', account), 'balance', 'held', 'overdraft', 'status', 'outgoing'),
  );
  if (balance === null) throw new ApiError(404, 'not_found', `no account ${account}`, 'account');
  const b = Number(balance),
    h = Number(held),
    o = Number(overdraft);
  // outgoing: sent by transfers whose credit is not confirmed yet (already out of the balance).
  return { account, status, balance: b, held: h, outgoing: Number(outgoing ?? 0), overdraft: o, available: b + o - h };
}

/** A wallet hold, stock reservation or seat hold: its state and what it holds. */
/** `stored`: the hold's id as stored (in its producer's namespace); `shown`: as the reader named it. */
export async function readHold(
  redis: Redis,
  domain: Domain,
  entity: string,
  stored: string,
  field: string,
  shown: string = stored,
) {
  const h = await fromRedis(redis, redis.hgetall(holdKey(domain, entity, stored)));
  if (!h.state) throw new ApiError(404, 'not_found', `no ${field} ${shown}`, field);
  const { state, expiresAt, seats, holder, customer, ...numbers } = h;
  return {
    [field]: shown,
    state,
    expiresAt: Number(expiresAt),
    ...(holder !== undefined && { holder }),
    ...(customer !== undefined && { customer }),
    ...(seats !== undefined && { seats: seats.split(' ') }),
    ...Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, Number(v)])),
  };
}

export async function readStock(redis: Redis, sku: string) {
  const [available, reserved, sold, limit] = await fromRedis(
    redis,
    redis.hmget(entityKey('stock', sku), 'available', 'reserved', 'sold', 'limit'),
  );
  if (available === null) throw new ApiError(404, 'not_found', `no sku ${sku}`, 'sku');
  const [a, r, s] = [Number(available), Number(reserved), Number(sold)];
  return { sku, stocked: a + r + s, available: a, reserved: r, sold: s, perCustomerLimit: Number(limit) || null };
}

const seatOrder = new Intl.Collator('en', { numeric: true }).compare;

/** The seat map: every seat with its state (free, held, sold) and the hold that has it. */
/** `reader`: the reading producer, whose own holds show as its client named them. */
export async function readSeats(redis: Redis, event: string, reader?: string) {
  const map = await fromRedis(redis, redis.hgetall(entityKey('seats', event)));
  const names = Object.keys(map).sort(seatOrder);
  if (!names.length) throw new ApiError(404, 'not_found', `no event ${event}`, 'event');
  const counts = { free: 0, held: 0, sold: 0 };
  const seats = names.map((seat) => {
    const [state, hold] = map[seat]!.split(' ') as ['free' | 'held' | 'sold', string | undefined];
    counts[state]++;
    return { seat, state, ...(hold && { hold: shownId(hold, reader) }) };
  });
  return { event, ...counts, seats };
}

/** Each domain's entity read (its route in common/domains.ts). */
/** `reader`: the reading producer (its own holds show as it named them; the seat map lists holds). */
export const readEntity: { [D in Domain]: (redis: Redis, entity: string, reader?: string) => Promise<object> } = {
  wallet: readAccount,
  stock: readStock,
  seats: readSeats,
};
