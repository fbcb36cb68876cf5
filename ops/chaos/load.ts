// The chaos run's client: a mixed load over every domain (transfers, some to accounts that do not exist;
// holds, reservations and seat holds with short ttls, some confirmed or voided, the rest left to expire;
// ids shaped like step flags, `T1:settle`), re-sends of accepted ids, and retries of every answer that
// says "unknown" (a 503, a timeout, a connection cut) with the same id, as clients must. Every request
// and answer goes into the history the run checks at the end. Bounded in count and time.
import { Prng } from './prng.ts';

/** One request and its answer; the times are this client's clock (ms). */
export interface Attempt {
  status: number | 'error';
  code?: string;
  sentAt: number;
  answeredAt: number;
}
export interface Entry {
  id: string;
  body: Record<string, unknown>;
  attempts: Attempt[];
}

/** Each id's body and every answer it got. */
export class History {
  readonly entries = new Map<string, Entry>();
  record(id: string, body: Record<string, unknown>, a: Attempt): void {
    const e = this.entries.get(id) ?? { id, body, attempts: [] };
    e.attempts.push(a);
    this.entries.set(id, e);
  }
  accepted(): Entry[] {
    return [...this.entries.values()].filter((e) => e.attempts.some((a) => a.status === 202));
  }
  /** Ids answered 503 at least once and then 202 on a retry with the same id. */
  acceptedAfter503(): Entry[] {
    return this.accepted().filter((e) => e.attempts.some((a) => a.status === 503));
  }
  /** Refused for good: a 4xx and never a 202. */
  refused(): Entry[] {
    return [...this.entries.values()].filter(
      (e) =>
        !e.attempts.some((a) => a.status === 202) &&
        e.attempts.some((a) => typeof a.status === 'number' && a.status >= 400 && a.status < 500 && a.status !== 409),
    );
  }
}

export interface LoadOptions {
  ingestUrl: () => string;
  seed: number;
  run: string;
  until: number;
  /** The load also goes on while this says so (a fault still to heal). */
  busy?: () => boolean;
  maxRequests: number;
  workers: number;
  history: History;
}

/** What the load works on, created before the faults start. */
export interface World {
  accounts: string[];
  skus: string[];
  events: Array<{ event: string; seats: string[] }>;
}

export const startingBalance = 10_000;
export const stocked = 40;

export function makeWorld(run: string): World {
  return {
    accounts: Array.from({ length: 16 }, (_, i) => `${run}-acct-${i}`),
    skus: Array.from({ length: 4 }, (_, i) => `${run}-sku-${i}`),
    events: Array.from({ length: 4 }, (_, i) => ({
      event: `${run}-gig-${i}`,
      seats: Array.from({ length: 24 }, (_, s) => `S${s}`),
    })),
  };
}

/** The setup transactions, in two waves (entities, then the money). */
export function setupWaves(w: World): Array<Array<Record<string, unknown>>> {
  return [
    [
      ...w.accounts.map((account, i) => ({ type: 'wallet.open', account, overdraft: i % 4 === 0 ? 500 : 0 })),
      ...w.skus.map((sku) => ({ type: 'stock.set', sku, quantity: stocked, perCustomerLimit: 3 })),
      ...w.events.map((e) => ({ type: 'seats.define', event: e.event, seats: e.seats })),
    ],
    w.accounts.map((account) => ({ type: 'wallet.credit', account, amount: startingBalance })),
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Posts one transaction until it is answered for good (202 or a 4xx) or its retries run out. */
export async function send(
  o: Pick<LoadOptions, 'ingestUrl' | 'history' | 'until'>,
  id: string,
  body: Record<string, unknown>,
): Promise<number | 'error'> {
  const full = { id, ...body };
  for (let attempt = 0; attempt < 12; attempt++) {
    let a: Attempt;
    const sentAt = Date.now();
    try {
      const r = await fetch(`${o.ingestUrl()}/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(full),
        signal: AbortSignal.timeout(5000),
      });
      const reply = (await r.json().catch(() => ({}))) as { code?: string; id?: string };
      a = { status: r.status, ...(reply.code && { code: reply.code }), sentAt, answeredAt: Date.now() };
      // The 503 says "unknown, retry with this id": a body naming another id would be a bug worth seeing.
      if (r.status === 503 && reply.id && reply.id !== id) a.code = `503 named id ${reply.id}`;
    } catch (e) {
      a = { status: 'error', code: (e as Error).name, sentAt, answeredAt: Date.now() };
    }
    o.history.record(id, full, a);
    if (a.status === 202 || (typeof a.status === 'number' && a.status >= 400 && a.status < 500 && a.status !== 409))
      return a.status;
    // Unknown (503, 409 in flight, a cut connection): the same id again, after a pause, within the run's grace.
    if (Date.now() > o.until + 30_000) return a.status;
    await sleep(200 + attempt * 250);
  }
  return 'error';
}

interface OpenHold {
  domain: 'wallet' | 'stock' | 'seats';
  entity: string;
  id: string;
}

/** Runs `workers` loops until `until` or `maxRequests` transactions. */
export async function runLoad(o: LoadOptions, w: World): Promise<void> {
  const rng = new Prng(o.seed ^ 0x5eed);
  let n = 0;
  const holds: OpenHold[] = [];
  const nextId = () => {
    const k = n++;
    // Ids shaped like a step's flag or another id's step: each must stay a transaction of its own.
    return rng.pick([
      `${o.run}-${k}`,
      `${o.run}-${k}`,
      `${o.run}-T${k}:settle`,
      `${o.run}-H${k}:expire`,
      `${o.run}-${k}:debit`,
      `${o.run}-${k}:credit:x`,
    ]);
  };
  const ttl = () => rng.int(1000, 4000);
  const next = (): [string, Record<string, unknown>] | undefined => {
    const kind = rng.weighted({
      credit: 3,
      debit: 2,
      transfer: 4,
      hold: 2,
      endHold: 3,
      reserve: 2,
      seatHold: 2,
      resend: 2,
    });
    const account = rng.pick(w.accounts);
    switch (kind) {
      case 'credit':
        return [nextId(), { type: 'wallet.credit', account, amount: rng.int(1, 500) }];
      case 'debit':
        return [nextId(), { type: 'wallet.debit', account, amount: rng.int(1, 300) }];
      case 'transfer': {
        const to = rng.chance(0.1)
          ? `${o.run}-ghost-${rng.int(0, 3)}`
          : rng.pick(w.accounts.filter((a) => a !== account));
        return [nextId(), { type: 'wallet.transfer', from: account, to, amount: rng.int(1, 700) }];
      }
      case 'hold': {
        const id = nextId();
        holds.push({ domain: 'wallet', entity: account, id });
        return [id, { type: 'wallet.hold', account, amount: rng.int(1, 400), ttl: ttl() }];
      }
      case 'reserve': {
        const id = nextId();
        const sku = rng.pick(w.skus);
        holds.push({ domain: 'stock', entity: sku, id });
        return [id, { type: 'stock.reserve', sku, quantity: rng.int(1, 2), customer: `c${rng.int(0, 9)}`, ttl: ttl() }];
      }
      case 'seatHold': {
        const id = nextId();
        const e = rng.pick(w.events);
        const first = rng.int(0, e.seats.length - 3);
        holds.push({ domain: 'seats', entity: e.event, id });
        return [
          id,
          {
            type: 'seats.hold',
            event: e.event,
            seats: e.seats.slice(first, first + rng.int(1, 3)),
            holder: `h${rng.int(0, 9)}`,
            ttl: ttl(),
          },
        ];
      }
      case 'endHold': {
        if (!holds.length) return undefined;
        const h = holds.splice(rng.int(0, holds.length - 1), 1)[0]!;
        const post = rng.chance(0.6);
        if (h.domain === 'wallet')
          return [
            nextId(),
            post
              ? { type: 'wallet.capture', account: h.entity, hold: h.id }
              : { type: 'wallet.void', account: h.entity, hold: h.id },
          ];
        if (h.domain === 'stock')
          return [nextId(), { type: post ? 'stock.confirm' : 'stock.release', sku: h.entity, reservation: h.id }];
        return [nextId(), { type: post ? 'seats.confirm' : 'seats.release', event: h.entity, hold: h.id }];
      }
      case 'resend': {
        // A re-send of an accepted id with its own body: answered 202 again, applied once.
        const done = [...o.history.entries.values()]
          .slice(-200)
          .filter((e) => e.attempts.some((a) => a.status === 202));
        if (!done.length) return undefined;
        const { id, ...body } = rng.pick(done).body;
        return [id as string, body];
      }
    }
  };
  let requests = 0;
  await Promise.all(
    Array.from({ length: o.workers }, async () => {
      while ((Date.now() < o.until || o.busy?.()) && requests < o.maxRequests) {
        const t = next();
        if (!t) continue;
        requests++;
        await send(o, t[0], t[1]);
        await sleep(rng.int(5, 40));
      }
    }),
  );
}
