// The IETF draft's RateLimit fields as ingest-api writes them for a token bucket.
import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from './rate-limit.ts';

describe('RateLimit headers', () => {
  it('the policy is the burst over the time to refill it; the state the tokens left and when to retry', () => {
    expect(rateLimitHeaders(20, 20, 3, 1)).toEqual({
      'RateLimit-Policy': '"producer";q=20;w=1',
      RateLimit: '"producer";r=3;t=1',
    });
    expect(rateLimitHeaders(100, 1000, 0, 2)).toEqual({
      'RateLimit-Policy': '"producer";q=1000;w=10',
      RateLimit: '"producer";r=0;t=2',
    });
    expect(rateLimitHeaders(3, 10, -1, 4).RateLimit).toBe('"producer";r=0;t=4');
  });
});
