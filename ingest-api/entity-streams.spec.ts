// EntityStreams' admission without Redis: past maxStreamClients a stream is refused 503 before anything opens.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { limits } from '../common/limits.ts';
import { EntityStreams } from './entity-streams.ts';
import { ApiError } from './errors.ts';

describe('EntityStreams', () => {
  it('refuses a stream past maxStreamClients (503 overloaded), reading nothing and opening nothing', async () => {
    const subscriber = Object.assign(new EventEmitter(), { subscribe: () => Promise.resolve(1) });
    const redis = new Proxy(
      {},
      {
        get: () => {
          throw new Error('Redis must not be read');
        },
      },
    );
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const streams = new EntityStreams(redis as never, subscriber, 'changes:{t}', log as never);
    let opened = false;
    const refused = await streams
      .watch(
        'stock',
        'sku-1',
        () => {
          opened = true;
          return undefined as never;
        },
        undefined,
        limits.maxStreamClients,
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, code: 'overloaded' });
    expect(opened).toBe(false);
  });
});
