// Per-key rate limits: a token bucket per API key in Redis (lua/ratelimit.take-1.lua), so every ingest-api
// instance draws from the same one. Asked before the body is read (a single transaction costs 1) or before
// anything is claimed or published (a batch costs its items). Its calls share the turn's pipeline.
import type { RedisClient as Redis } from '../common/redis.ts';
import { rateLimitKey } from '../common/keys.ts';
import type { Logger } from '../common/log.ts';
import { producerTransactions, rateLimited } from '../common/metrics.ts';
import { sharedPipeline } from '../common/redis-batch.ts';
import { dropIfTimedOut } from '../common/redis.ts';
import { callScript } from '../lua/scripts.ts';
import type { Principal } from './auth.ts';
import { ApiError } from './errors.ts';

export interface RateLimitOptions {
  /** A key's rate (transactions per second) and burst when its record names none. */
  rate: number;
  burst: number;
  /** Redis unreachable: `open` admits (the limit is not enforced meanwhile), `closed` refuses 503. */
  whenRedisDown: 'open' | 'closed';
}

/** The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers): the policy as `burst` per refill time. */
export function rateLimitHeaders(
  rate: number,
  burst: number,
  remaining: number,
  resetSeconds: number,
): Record<string, string> {
  const window = Math.max(1, Math.ceil(burst / rate));
  return {
    'RateLimit-Policy': `"producer";q=${burst};w=${window}`,
    RateLimit: `"producer";r=${Math.max(0, remaining)};t=${resetSeconds}`,
  };
}

export class RateLimiter {
  private warned = 0;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RateLimitOptions,
    private readonly log: Logger,
  ) {}

  /** Undefined when admitted; else the refusal to answer (429, or 503 failing closed). Nothing is published either way. */
  async take(p: Principal, cost: number): Promise<ApiError | undefined> {
    if (p.producer === undefined || p.keyId === undefined) return undefined;
    const rate = p.rate ?? this.opts.rate;
    // A key given only a rate gets twice that as its burst, not the default burst made for the default rate.
    const burst = p.burst ?? (p.rate !== undefined ? 2 * p.rate : this.opts.burst);
    let reply: [string, number, number];
    try {
      const [r] = await sharedPipeline(this.redis, (pl) =>
        callScript(pl, 'ratelimit.take', [rateLimitKey(p.producer!, p.keyId!)], [rate, burst, cost]),
      );
      if (!r || r[0]) throw r?.[0] ?? new Error('no reply');
      reply = r[1] as [string, number, number];
    } catch (e) {
      dropIfTimedOut(this.redis, e);
      if (Date.now() - this.warned > 10_000) {
        this.warned = Date.now();
        this.log.warn(`rate limiter cannot reach Redis: failing ${this.opts.whenRedisDown}`, {
          error: (e as Error).message,
        });
      }
      if (this.opts.whenRedisDown === 'open') return undefined;
      return new ApiError(
        503,
        'redis_unavailable',
        'the rate limiter cannot reach Redis; nothing was accepted',
        undefined,
        1,
        { published: 'no' },
      );
    }
    const [code, remaining, waitMs] = reply;
    if (code === 'ok') return undefined;
    rateLimited.inc({ producer: p.producer });
    producerTransactions.inc({ producer: p.producer, outcome: 'limited' }, cost);
    const never = waitMs < 0;
    const retryAfter = never ? Math.max(1, Math.ceil(burst / rate)) : Math.max(1, Math.ceil(waitMs / 1000));
    const message = never
      ? `${cost} transactions at once are over this key's burst of ${burst}: send fewer at once; nothing was accepted`
      : `over this key's rate of ${rate} transactions a second (burst ${burst}); nothing was accepted`;
    return new ApiError(429, 'rate_limited', message, undefined, retryAfter, {
      headers: rateLimitHeaders(rate, burst, remaining, retryAfter),
    });
  }
}
