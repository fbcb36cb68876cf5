// GET /v1/transactions/stream: every outcome as it is recorded (SSE). The processor appends each outcome
// to a capped Redis stream (common/status.ts announceOutcome); while anyone watches, one blocking read per
// ingest-api follows it and sends each outcome to every watcher. Event ids are the stream's ids: a client
// that reconnects with Last-Event-ID gets what it missed while the stream still holds it (maxOutcomeFeed),
// or a `gap` event saying some are gone.
import type { RedisClient as Redis } from '../common/redis.ts';
import { outcomeFeedKey } from '../common/keys.ts';
import { limits } from '../common/limits.ts';
import type { Logger } from '../common/log.ts';
import { ApiError } from './errors.ts';
import type { SseClient, SseEvent } from './sse.ts';

type StreamEntries = Array<[id: string, fields: string[]]>;

const streamId = /^\d{1,16}-\d{1,16}$/;

/** a < b for stream ids '<ms>-<seq>'. */
const before = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am < bm || (am === bm && as < bs);
};

/** What one watcher sees of an outcome (its producer's own, its id as that producer sent it); undefined: nothing. */
export type OutcomeView = (outcome: { id: string; [field: string]: unknown }) => unknown;

const toEvent = ([id, fields]: [string, string[]], view: OutcomeView): SseEvent | undefined => {
  const data = view(JSON.parse(fields[1] ?? '{}') as { id: string });
  return data === undefined ? undefined : { id, event: 'outcome', data };
};

export class OutcomeStream {
  private readonly clients = new Map<SseClient, OutcomeView>();
  private following = false;
  /** The id of the newest outcome sent to the watchers. */
  private last = '0-0';

  /** `reader`: a connection of its own (its reads block). */
  constructor(
    private readonly reader: Redis,
    private readonly resultsTopic: string,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  async watch(
    open: () => SseClient,
    after: string | undefined,
    otherClients: number,
    view: OutcomeView,
  ): Promise<void> {
    if (this.clients.size + otherClients >= limits.maxStreamClients) {
      throw new ApiError(503, 'overloaded', 'too many live streams on this ingest-api; retry later', undefined, 5);
    }
    const key = outcomeFeedKey(this.resultsTopic);
    if (!this.following) {
      const newest = (await this.reader.xrevrange(key, '+', '-', 'COUNT', 1).catch(() => [])) as StreamEntries;
      // Another watcher may have started following meanwhile.
      if (!this.following) this.last = newest[0]?.[0] ?? '0-0';
    }
    const client = open();
    client.hold();
    this.clients.set(client, view);
    client.onClose(() => this.clients.delete(client));
    const upTo = this.last;
    if (!this.following) void this.follow();
    try {
      if (after !== undefined && streamId.test(after) && before(after, upTo)) {
        // What it missed, within what the feed still holds; when the feed no longer reaches back to its
        // Last-Event-ID, a `gap` event says some may be gone.
        const oldest = (await this.reader.xrange(key, '-', '+', 'COUNT', 1)) as StreamEntries;
        if (oldest[0] && before(after, oldest[0][0])) {
          client.sendNow({
            event: 'gap',
            data: {
              message:
                'outcomes after Last-Event-ID may be gone from the feed; read them with GET /v1/transactions/:id',
            },
          });
        }
        const missed = (await this.reader.xrange(
          key,
          `(${after}`,
          upTo,
          'COUNT',
          limits.maxStreamReplay,
        )) as StreamEntries;
        for (const m of missed) {
          const event = toEvent(m, view);
          if (event) client.sendNow(event);
        }
      }
      client.release();
    } catch (e) {
      this.log.warn('outcome stream replay failed', { error: (e as Error).message });
      client.drop();
    }
  }

  /** Follows the stream while anyone watches: one blocking read at a time for this ingest-api. */
  private async follow(): Promise<void> {
    this.following = true;
    const key = outcomeFeedKey(this.resultsTopic);
    try {
      while (this.clients.size) {
        let reply: [string, StreamEntries][] | null;
        try {
          reply = (await this.reader.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', key, this.last)) as
            [string, StreamEntries][] | null;
        } catch (e) {
          this.log.warn('outcome stream read failed', { error: (e as Error).message });
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        for (const m of reply?.[0]?.[1] ?? []) {
          this.last = m[0];
          for (const [c, view] of this.clients) {
            const event = toEvent(m, view);
            if (event) c.send(event);
          }
        }
      }
    } finally {
      this.following = false;
    }
  }

  close(): void {
    for (const c of this.clients.keys()) c.drop();
  }
}
