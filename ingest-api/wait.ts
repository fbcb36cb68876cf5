// `?wait=<ms>`: answer with a transaction's outcome as soon as it is decided, within the wait.
import type { Request, Response } from 'express';
import type { RedisClient as Redis } from '../common/redis.ts';
import { limits } from '../common/limits.ts';
import { ApiError } from './errors.ts';
import type { OutcomeWaiters } from './outcomes.ts';
import { readTransaction } from './reads.ts';

export interface WaitDeps {
  redis: Redis;
  outcomes: OutcomeWaiters;
}

/** The request's `wait` in ms (0 when absent): an integer 0..maxWaitMs, else 400 naming `wait`. */
export function waitParam(req: Request): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) {
    throw new ApiError(400, 'invalid_value', 'wait must be a whole number of milliseconds', 'wait');
  }
  const ms = Number(raw);
  if (ms > limits.maxWaitMs)
    throw new ApiError(400, 'out_of_range', `wait must be at most ${limits.maxWaitMs} ms`, 'wait');
  return ms;
}

/** Aborted when the client goes away before its answer: its wait ends and its timer is freed. */
export function clientGone(res: Response): AbortSignal {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  return gone.signal;
}

type TransactionRead = Awaited<ReturnType<typeof readTransaction>>;

/**
 * The transaction as GET /v1/transactions/:id reads it (`stored`: its id in its producer's namespace; `shown`:
 * as the reader named it), waiting up to `ms` for it to be decided. The waiter
 * is registered before the first read, so an outcome announced between the two is not missed. Past the
 * waiters' cap it reads once, without waiting.
 */
export async function readDecided(
  deps: WaitDeps,
  stored: string,
  ms: number,
  signal: AbortSignal,
  shown = stored,
): Promise<TransactionRead> {
  const waiter = ms > 0 ? deps.outcomes.wait(stored, ms, signal) : undefined;
  try {
    const first = await readTransaction(deps.redis, stored, shown);
    if (first.status !== 'pending' || !waiter) return first;
    const why = await waiter.ended;
    return why === 'aborted' ? first : await readTransaction(deps.redis, stored, shown);
  } finally {
    waiter?.cancel();
  }
}
