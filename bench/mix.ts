// The benchmark's request mix: debits, credits and transfers across 10,000 accounts, reserves on 100 skus,
// holds on 20 events — each kind checked against the real parser so a schema change fails the benchmark
// loudly instead of measuring 400s.
import type { Domain } from '../common/domains.ts';
import { entityOf, publicTypes, type Message, type MessageTypeName } from '../common/messages/index.ts';
import { parseTransaction } from '../ingest-api/parse.ts';

export interface World {
  accounts: string[];
  skus: string[];
  events: string[];
  seatsPerEvent: number;
}

export type Body = Record<string, unknown> & { type: string };

/** A small deterministic generator (mulberry32): the same seed gives the same mix on every run. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

export function makeWorld(
  tag: string,
  sizes = { accounts: 10_000, skus: 100, events: 20, seatsPerEvent: 2000 },
): World {
  const range = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${tag}-${p}${i}`);
  return {
    accounts: range(sizes.accounts, 'a'),
    skus: range(sizes.skus, 'sku'),
    events: range(sizes.events, 'ev'),
    seatsPerEvent: sizes.seatsPerEvent,
  };
}

interface Kind {
  type: MessageTypeName;
  weight: number;
  body(w: World, r: Rng): Body;
}

const seatName = (i: number) => `s${i}`;
/** Reservations and holds outlive the run, so the sweeper's expiries do not add load to later stages. */
const holdTtl = 30 * 60_000;

/** The transactions under load, by weight. */
const kinds: Kind[] = [
  {
    type: 'wallet.debit',
    weight: 4,
    body: (w, r) => ({ type: 'wallet.debit', account: r.pick(w.accounts), amount: r.int(1, 100) }),
  },
  {
    type: 'wallet.credit',
    weight: 3,
    body: (w, r) => ({ type: 'wallet.credit', account: r.pick(w.accounts), amount: r.int(1, 100) }),
  },
  {
    type: 'wallet.transfer',
    weight: 3,
    body: (w, r) => {
      const from = r.pick(w.accounts);
      let to = r.pick(w.accounts);
      while (to === from) to = r.pick(w.accounts);
      return { type: 'wallet.transfer', from, to, amount: r.int(1, 100) };
    },
  },
  {
    type: 'stock.reserve',
    weight: 2,
    body: (w, r) => ({
      type: 'stock.reserve',
      sku: r.pick(w.skus),
      quantity: r.int(1, 3),
      customer: `c${r.int(1, 100_000)}`,
      ttl: holdTtl,
    }),
  },
  {
    type: 'seats.hold',
    weight: 1,
    body: (w, r) => {
      const first = r.int(0, w.seatsPerEvent - 2);
      return {
        type: 'seats.hold',
        event: r.pick(w.events),
        seats: [seatName(first), seatName(first + 1)],
        holder: `h${r.int(1, 100_000)}`,
        ttl: holdTtl,
      };
    },
  },
];

/** The state the mix needs before it runs: open, well-funded accounts; stocked skus; defined events. */
function setupBodies(w: World): Body[] {
  const out: Body[] = [];
  for (const account of w.accounts) out.push({ type: 'wallet.open', account });
  for (const account of w.accounts) out.push({ type: 'wallet.credit', account, amount: 1_000_000_000_000 });
  for (const sku of w.skus) out.push({ type: 'stock.set', sku, quantity: 1_000_000_000 });
  const seats = Array.from({ length: w.seatsPerEvent }, (_, i) => seatName(i));
  for (const event of w.events) out.push({ type: 'seats.define', event, seats });
  return out;
}

/** Throws when a body no longer parses (a schema changed under the benchmark). */
function check(body: Body, what: string): void {
  try {
    parseTransaction(body);
  } catch (e) {
    throw new Error(
      `bench/mix.ts: the ${what} body for ${body.type} no longer matches its schema (${(e as Error).message}); update bench/mix.ts`,
      { cause: e },
    );
  }
}

export interface Mix {
  /** The types in the mix with their share, e.g. { 'wallet.debit': 0.57, ... }. */
  shares: Record<string, number>;
  /** Public types the mix does not send (no generator for them yet). */
  notInMix: string[];
}

export function describeMix(): Mix {
  const total = kinds.reduce((s, k) => s + k.weight, 0);
  const setupTypes = new Set(['wallet.open', 'stock.set', 'seats.define']);
  return {
    shares: Object.fromEntries(kinds.map((k) => [k.type, Math.round((k.weight / total) * 100) / 100])),
    notInMix: publicTypes.filter((t) => !kinds.some((k) => k.type === t) && !setupTypes.has(t)),
  };
}

/** `n` request bodies of the mix (no id: ingest assigns one), drawn with a fixed seed. */
export function* mixStream(w: World, n: number, seed = 42): Generator<Body> {
  const r = new Rng(seed);
  for (const k of kinds) check(k.body(w, r), 'mix');
  const total = kinds.reduce((s, k) => s + k.weight, 0);
  for (let i = 0; i < n; i++) {
    let x = r.next() * total;
    const k = kinds.find((c) => (x -= c.weight) < 0) ?? kinds[kinds.length - 1]!;
    yield k.body(w, r);
  }
}

export const mixBodies = (w: World, n: number, seed = 42): Body[] => [...mixStream(w, n, seed)];

/** The setup transactions, each checked once per type against the parser. */
export function setup(w: World): Body[] {
  const bodies = setupBodies(w);
  const seen = new Set<string>();
  for (const b of bodies) {
    if (seen.has(b.type)) continue;
    seen.add(b.type);
    check(b, 'setup');
  }
  return bodies;
}

/** A body as a Kafka record of its domain topic (what ingest-api would publish), with the given id. */
export function toRecord(body: Body, id: string): { domain: Domain; key: string; value: string } {
  const m = { id, ...body } as unknown as Message;
  const { domain, entity } = entityOf(m);
  return { domain, key: entity, value: JSON.stringify(m) };
}
