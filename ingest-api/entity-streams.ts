// Live streams of a sku's stock and an event's seats (SSE). The processor says which entities each batch
// changed (common/status.ts announceChange, one pub/sub channel); for each entity someone watches, one feed
// in this ingest-api reads the entity's new history entries (lua/includes/tx.lua txRecord) once per change
// and sends them to all its watchers. Event ids are the entries' offsets: a client that reconnects with
// Last-Event-ID gets the entries it missed from the history (within its retention and maxStreamReplay).
import type { RedisClient as Redis } from '../common/redis.ts';
import type { Domain, StreamDomain } from '../common/domains.ts';
import { entityKey, entriesKey } from '../common/keys.ts';
import { limits } from '../common/limits.ts';
import type { Logger } from '../common/log.ts';
import { ApiError } from './errors.ts';
import type { Subscriber } from './outcomes.ts';
import type { SseClient, SseEvent } from './sse.ts';

type SeatState = 'free' | 'held' | 'sold';
type Entry = { offset: number; member: string };

const seatOrder = new Intl.Collator('en', { numeric: true }).compare;

/** A stored entry '<time>-<offset> <id> <type> <values...>'. */
function splitEntry(member: string) {
  const [entry, id, type, ...values] = member.split(' ') as [string, string, string, ...string[]];
  return { entry, id, type, at: Number(entry.slice(0, entry.indexOf('-'))), values };
}

const pairs = (flat: string[]): Entry[] => {
  const out: Entry[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i]!, offset: Number(flat[i + 1]) });
  return out;
};

/** One watched entity: its state as of `last` (the newest entry sent), and its watchers. */
abstract class Feed {
  readonly clients = new Set<SseClient>();
  /** Offset of the newest entry applied to the state (0: none yet). */
  last = 0;
  private reading: Promise<void> | undefined;
  private dirty = false;

  constructor(
    readonly redis: Redis,
    readonly domain: Domain,
    readonly entity: string,
  ) {}

  /** Reads the state and the newest entry's offset at one instant (MULTI). */
  abstract snapshot(): Promise<void>;
  /** The full state as an event. */
  abstract state(): SseEvent;
  /** Applies a new entry to the state; the event announcing it. */
  abstract apply(e: Entry): SseEvent;
  /** A missed entry replayed to one client (the state at that point is not kept: the state follows). */
  abstract replayed(e: Entry): SseEvent;

  /** The entity changed: read its new entries (one read at a time; a change meanwhile reads again after). */
  changed(): Promise<void> {
    if (this.reading) {
      this.dirty = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.dirty = false;
        const flat = await this.redis.zrangebyscore(
          entriesKey(this.domain, this.entity),
          `(${this.last}`,
          '+inf',
          'WITHSCORES',
          'LIMIT',
          0,
          limits.maxStreamReplay,
        );
        for (const e of pairs(flat)) {
          const event = this.apply(e);
          this.last = e.offset;
          for (const c of this.clients) c.send(event);
        }
        if (flat.length / 2 >= limits.maxStreamReplay) this.dirty = true;
      } while (this.dirty);
    })().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Starts the feed: the snapshot, then any change that came in meanwhile. */
  async start(): Promise<void> {
    let release!: () => void;
    this.reading = new Promise<void>((r) => {
      release = r;
    });
    try {
      await this.snapshot();
    } finally {
      this.reading = undefined;
      release();
    }
    if (this.dirty) await this.changed();
  }

  /**
   * A new watcher: the entries it missed after `after` (when it resumes), then the state, then live. Live
   * events are held meanwhile; those before the state's instant are in it, the later ones follow it.
   */
  async join(client: SseClient, after: number | undefined): Promise<void> {
    client.hold();
    this.clients.add(client);
    await this.reading;
    const upTo = this.last;
    const state = { ...this.state(), id: String(upTo) };
    client.clearHeld();
    if (after !== undefined && after < upTo) {
      const flat = await this.redis.zrangebyscore(
        entriesKey(this.domain, this.entity),
        `(${after}`,
        upTo,
        'WITHSCORES',
        'LIMIT',
        0,
        limits.maxStreamReplay,
      );
      for (const e of pairs(flat)) client.sendNow({ ...this.replayed(e), id: String(e.offset) });
    }
    client.sendNow(state);
    client.release();
  }
}

class StockFeed extends Feed {
  private counts = { available: 0, reserved: 0, sold: 0 };
  private perCustomerLimit: number | null = null;

  async snapshot(): Promise<void> {
    const replies = await this.redis
      .multi()
      .hmget(entityKey('stock', this.entity), 'available', 'reserved', 'sold', 'limit')
      .zrevrange(entriesKey('stock', this.entity), 0, 0, 'WITHSCORES')
      .exec();
    const [[, stock], [, newest]] = replies as [[null, (string | null)[]], [null, string[]]];
    if (stock[0] === null) throw new ApiError(404, 'not_found', `no sku ${this.entity}`, 'sku');
    this.counts = { available: Number(stock[0]), reserved: Number(stock[1]), sold: Number(stock[2]) };
    this.perCustomerLimit = Number(stock[3]) || null;
    this.last = newest[1] === undefined ? 0 : Number(newest[1]);
  }

  private body() {
    const { available, reserved, sold } = this.counts;
    return {
      sku: this.entity,
      stocked: available + reserved + sold,
      available,
      reserved,
      sold,
      perCustomerLimit: this.perCustomerLimit,
    };
  }

  state(): SseEvent {
    return { event: 'stock', data: this.body() };
  }

  private change(e: Entry) {
    const { entry, id, type, at, values } = splitEntry(e.member);
    const [available, reserved, sold, dAvailable, dReserved, dSold] = values.map(Number) as number[];
    return {
      entry,
      transaction: id,
      type,
      at,
      counts: { available: available!, reserved: reserved!, sold: sold! },
      change: { available: dAvailable, reserved: dReserved, sold: dSold },
    };
  }

  apply(e: Entry): SseEvent {
    const c = this.change(e);
    this.counts = c.counts;
    return {
      id: String(e.offset),
      event: 'stock',
      data: { ...this.body(), change: c.change, transaction: c.transaction, type: c.type, at: c.at },
    };
  }

  replayed(e: Entry): SseEvent {
    const c = this.change(e);
    const { available, reserved, sold } = c.counts;
    return {
      event: 'stock',
      data: {
        sku: this.entity,
        stocked: available + reserved + sold,
        ...c.counts,
        change: c.change,
        transaction: c.transaction,
        type: c.type,
        at: c.at,
      },
    };
  }
}

class SeatsFeed extends Feed {
  private seats = new Map<string, { state: SeatState; hold?: string }>();

  async snapshot(): Promise<void> {
    const replies = await this.redis
      .multi()
      .hgetall(entityKey('seats', this.entity))
      .zrevrange(entriesKey('seats', this.entity), 0, 0, 'WITHSCORES')
      .exec();
    const [[, map], [, newest]] = replies as [[null, Record<string, string>], [null, string[]]];
    if (!Object.keys(map).length) throw new ApiError(404, 'not_found', `no event ${this.entity}`, 'event');
    this.seats = new Map(
      Object.entries(map).map(([seat, v]) => {
        const [state, hold] = v.split(' ') as [SeatState, string | undefined];
        return [seat, { state, ...(hold && { hold }) }];
      }),
    );
    this.last = newest[1] === undefined ? 0 : Number(newest[1]);
  }

  private counts() {
    const counts = { free: 0, held: 0, sold: 0 };
    for (const s of this.seats.values()) counts[s.state]++;
    return counts;
  }

  state(): SseEvent {
    const names = [...this.seats.keys()].sort(seatOrder);
    return {
      event: 'seats',
      data: { event: this.entity, ...this.counts(), seats: names.map((seat) => ({ seat, ...this.seats.get(seat)! })) },
    };
  }

  private change(e: Entry) {
    const { entry, id, type, at, values } = splitEntry(e.member);
    const [change, ...seats] = values as [string, ...string[]];
    return { entry, transaction: id, type, at, change, seats };
  }

  apply(e: Entry): SseEvent {
    const c = this.change(e);
    if (c.change === 'defined') {
      // A redefinition: the new map is read (rarely: an event's map is set up once).
      void this.snapshot().then(
        () => {
          for (const client of this.clients) client.send({ ...this.state(), id: String(this.last) });
        },
        () => undefined,
      );
      return {
        id: String(e.offset),
        event: 'change',
        data: { event: this.entity, change: 'defined', transaction: c.transaction, type: c.type, at: c.at },
      };
    }
    // A confirm sells the hold's seats; a hold takes them; a release or expiry frees them.
    const hold =
      c.change === 'free' ? undefined : c.type === 'seats.hold' ? c.transaction : this.seats.get(c.seats[0]!)?.hold;
    for (const seat of c.seats) this.seats.set(seat, { state: c.change as SeatState, ...(hold && { hold }) });
    return {
      id: String(e.offset),
      event: 'change',
      data: {
        event: this.entity,
        ...this.counts(),
        change: c.change,
        seats: c.seats,
        transaction: c.transaction,
        type: c.type,
        at: c.at,
      },
    };
  }

  replayed(e: Entry): SseEvent {
    const c = this.change(e);
    return {
      event: 'change',
      data: {
        event: this.entity,
        change: c.change,
        seats: c.change === 'defined' ? undefined : c.seats,
        transaction: c.transaction,
        type: c.type,
        at: c.at,
      },
    };
  }
}

export class EntityStreams {
  private readonly feeds = new Map<string, Feed>();
  private clientCount = 0;

  constructor(
    private readonly redis: Redis,
    subscriber: Subscriber,
    private readonly channel: string,
    private readonly log: Logger,
  ) {
    subscriber.on('message', (ch, message) => {
      if (ch !== this.channel) return;
      const feed = this.feeds.get(message);
      if (feed)
        feed.changed().catch((e: Error) => this.log.warn('stream read failed', { entity: message, error: e.message }));
    });
  }

  get clients(): number {
    return this.clientCount;
  }

  /**
   * Streams one entity to the client `open` starts, once the entity is found and there is room (this
   * ingest-api's streams, `otherClients` included, stay within maxStreamClients). `after`: the Last-Event-ID
   * it resumes after. Throws (404, 503) before the client is opened.
   */
  async watch(
    domain: StreamDomain,
    entity: string,
    open: () => SseClient,
    after: string | undefined,
    otherClients: number,
  ): Promise<void> {
    if (this.clientCount + otherClients >= limits.maxStreamClients) {
      throw new ApiError(503, 'overloaded', 'too many live streams on this ingest-api; retry later', undefined, 5);
    }
    const key = `${domain} ${entity}`;
    let feed = this.feeds.get(key);
    if (!feed) {
      const created: Feed =
        domain === 'stock' ? new StockFeed(this.redis, domain, entity) : new SeatsFeed(this.redis, domain, entity);
      this.feeds.set(key, created);
      try {
        await created.start();
      } catch (e) {
        if (!created.clients.size) this.feeds.delete(key);
        throw e instanceof ApiError
          ? e
          : new ApiError(
              503,
              'redis_unavailable',
              `Redis did not answer (${(e as Error).message}); retry later`,
              undefined,
              1,
            );
      }
      feed = created;
    }
    const f = feed;
    this.clientCount++;
    const client = open();
    const leave = () => {
      this.clientCount--;
      f.clients.delete(client);
      if (!f.clients.size && this.feeds.get(key) === f) this.feeds.delete(key);
    };
    if (!client.open) return leave();
    client.onClose(leave);
    const resume = after !== undefined && /^\d{1,16}$/.test(after) ? Number(after) : undefined;
    try {
      await f.join(client, resume);
    } catch (e) {
      // The stream is open: no error answer any more. The client reconnects and resumes.
      this.log.warn('stream start failed', { entity: key, error: (e as Error).message });
      client.drop();
    }
  }

  /** Ends every stream (ingest-api is stopping): clients reconnect elsewhere and resume. */
  close(): void {
    for (const f of this.feeds.values()) for (const c of f.clients) c.drop();
  }
}
