// Read endpoints: a transaction's status and each domain's state, straight from Redis.
import type { Redis } from 'ioredis';
import { entityKey } from '../common/keys.ts';
import { statusKey } from '../common/status.ts';
import { ApiError } from './errors.ts';

export async function readTransaction(redis: Redis, id: string) {
  const h = await redis.hgetall(statusKey(id));
  if (!h || Object.keys(h).length === 0) throw new ApiError(404, 'not_found', `no transaction ${id}`, 'id');
  if (h.status) {
    return { id, type: h.type, status: h.status, code: h.code, result: JSON.parse(h.result ?? '{}') as Record<string, number>, ingestedAt: Number(h.ingestedAt), appliedAt: Number(h.appliedAt) };
  }
  return { id, ...(h.type && { type: h.type }), status: 'pending' as const, ...(h.step && { step: h.step }) };
}

export async function readAccount(redis: Redis, account: string) {
  const [balance, held, overdraft, status] = await redis.hmget(entityKey('wallet', account), 'balance', 'held', 'overdraft', 'status');
  if (balance === null) throw new ApiError(404, 'not_found', `no account ${account}`, 'account');
  const b = Number(balance), h = Number(held), o = Number(overdraft);
  return { account, status, balance: b, held: h, overdraft: o, available: b + o - h };
}
