// Redis bytes per retained transaction, by type: what sizing a deployment needs. Posts a run of one type
// through ingest-api's batch route (so ingest's own record counts too), waits until the processor has
// applied all of it, and divides the growth of Redis's dataset by the transactions. Each type runs on
// its own, after a setup that already filled the capped outcome feed, so what is counted is what every
// further transaction adds for as long as it is retained.
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { statusKey } from '../../common/keys.ts';
import type { Message } from '../../common/messages/index.ts';
import { commandOf, keysOf } from '../../processor/commands/index.ts';
import { sleep } from '../../stack/proc.ts';
import { waitForLag0 } from './kafka.ts';
import type { Pipeline } from './pipeline.ts';
import { Rng, type Body, type World } from '../mix.ts';

export interface MemoryRow {
  type: string;
  transactions: number;
  /** Dataset growth per transaction, with its keys' share of the key tables, bytes. */
  bytesPerTx: number;
  /** Keys added per transaction. */
  keysPerTx: number;
  /** MEMORY USAGE of the id's status record (ingest's claim + the outcome), averaged over a sample. */
  statusBytes: number;
  /** MEMORY USAGE of its idempotency flag on the first entity it touched, averaged over a sample. */
  flagBytes: number;
}

const holdTtl = 60 * 60_000;

/** The world measured on: 5,000 accounts, whose setup alone fills the capped outcome feed (which then stops growing). */
export const memoryWorldSize = { accounts: 5000, skus: 100, events: 20, seatsPerEvent: 2000 };

/** One body per transaction of each measured type, on the world the mix's setup created. */
const generators: Record<string, (w: World, r: Rng, i: number) => Body> = {
  'wallet.credit': (w, r) => ({ type: 'wallet.credit', account: r.pick(w.accounts), amount: r.int(1, 100) }),
  'wallet.debit': (w, r) => ({ type: 'wallet.debit', account: r.pick(w.accounts), amount: r.int(1, 100) }),
  'wallet.transfer': (w, r) => {
    const from = r.pick(w.accounts);
    let to = r.pick(w.accounts);
    while (to === from) to = r.pick(w.accounts);
    return { type: 'wallet.transfer', from, to, amount: r.int(1, 100) };
  },
  'wallet.hold': (w, r) => ({ type: 'wallet.hold', account: r.pick(w.accounts), amount: r.int(1, 100), ttl: holdTtl }),
  'stock.reserve': (w, r) => ({
    type: 'stock.reserve',
    sku: r.pick(w.skus),
    quantity: 1,
    customer: `c${r.int(1, 1_000_000)}`,
    ttl: holdTtl,
  }),
  'seats.hold': (w, r, i) => {
    // Two seats nobody else holds: the i-th pair of the events' seats, in order.
    const perEvent = Math.floor(w.seatsPerEvent / 2);
    const event = w.events[Math.floor(i / perEvent) % w.events.length]!;
    const first = (i % perEvent) * 2;
    return {
      type: 'seats.hold',
      event,
      seats: [`s${first}`, `s${first + 1}`],
      holder: `h${r.int(1, 1_000_000)}`,
      ttl: holdTtl,
    };
  },
};
export const memoryTypes = Object.keys(generators);

/**
 * MEMORY STATS: the dataset (used_memory less its overheads: clients, AOF buffer, script cache, the key
 * tables) and the key tables' bytes per key. The key tables double in one step as the keys cross a power of
 * two, which made used_memory's growth over a run jump by a megabyte or more; so the dataset's growth is
 * measured, and each key added is charged the tables' bytes per key (its entries, its object header, its share
 * of the buckets) as they stand.
 */
async function memoryStats(redis: Redis): Promise<{ dataset: number; tablesPerKey: number }> {
  const stats = (await redis.call('MEMORY', 'STATS')) as unknown[];
  const field = (list: unknown[], name: string) => list[list.indexOf(name) + 1];
  const dataset = Number(field(stats, 'dataset.bytes'));
  let tables = 0;
  let keys = 0;
  for (let i = 0; i < stats.length; i += 2) {
    if (!String(stats[i]).startsWith('db.')) continue;
    const db = stats[i + 1] as unknown[];
    tables += Number(field(db, 'overhead.hashtable.main')) + Number(field(db, 'overhead.hashtable.expires'));
  }
  for (const line of (await redis.info('keyspace')).split('\n')) keys += Number(/keys=(\d+)/.exec(line)?.[1] ?? 0);
  return { dataset, tablesPerKey: keys ? tables / keys : 0 };
}

/** The flag of a body's first step, as the processor names it (processor/commands keysOf: KEYS[1]). */
function flagOf(body: Body, id: string): string {
  const m = { id, ...body } as unknown as Message;
  return keysOf(m, commandOf(m))[0]!;
}

async function post(p: Pipeline, bodies: Body[]): Promise<string[]> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (process.env.TXPIPE_KEY) headers.authorization = `Bearer ${process.env.TXPIPE_KEY}`;
  const res = await fetch(`${p.url}/v1/transactions/batch`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ transactions: bodies }),
  });
  const answer = (await res.json()) as { results?: Array<{ id?: string; status: string }> };
  const ids = (answer.results ?? []).filter((r) => r.status === 'accepted').map((r) => r.id!);
  if (ids.length !== bodies.length)
    throw new Error(`batch: ${ids.length} of ${bodies.length} accepted (${res.status})`);
  return ids;
}

/**
 * Measures each type in turn. The pipeline must be running on a world whose setup has been applied.
 * `n` transactions a type (the world must have enough seats for n two-seat holds).
 */
export async function measureRedisBytes(o: {
  redisUrl: string;
  admin: Admin;
  pipeline: Pipeline;
  world: World;
  n: number;
  settleMs: number;
  say: (s: string) => void;
}): Promise<MemoryRow[]> {
  const redis = new Redis(o.redisUrl);
  const rows: MemoryRow[] = [];
  try {
    for (const type of memoryTypes) {
      const rng = new Rng(7);
      const bodies = Array.from({ length: o.n }, (_, i) => generators[type]!(o.world, rng, i));
      // Redis rehashes its key table a step at a time: let a resize finish before each reading.
      await sleep(1000);
      const keys0 = await redis.dbsize();
      const before = await memoryStats(redis);
      const ids: string[] = [];
      for (let i = 0; i < bodies.length; i += 500) ids.push(...(await post(o.pipeline, bodies.slice(i, i + 500))));
      const lag = await waitForLag0(o.admin, o.pipeline.groupId, o.pipeline.topics, o.settleMs);
      if (lag) throw new Error(`${type}: the processor is still ${lag} behind`);
      await sleep(1000);
      const after = await memoryStats(redis);
      const keys1 = await redis.dbsize();
      const keysPerTx = (keys1 - keys0) / o.n;
      const sample = ids.slice(0, 200);
      const usage = async (keys: string[]) => {
        const sizes = await Promise.all(keys.map((k) => redis.memory('USAGE', k)));
        return Math.round(sizes.reduce<number>((s, b) => s + Number(b ?? 0), 0) / keys.length);
      };
      const row: MemoryRow = {
        type,
        transactions: o.n,
        bytesPerTx: Math.round((after.dataset - before.dataset) / o.n + keysPerTx * after.tablesPerKey),
        keysPerTx: Math.round(keysPerTx * 100) / 100,
        statusBytes: await usage(sample.map(statusKey)),
        flagBytes: await usage(sample.map((id, i) => flagOf(bodies[i]!, id))),
      };
      rows.push(row);
      o.say(
        `  ${type}: ${row.bytesPerTx} B and ${row.keysPerTx} keys per transaction (status record ${row.statusBytes} B, flag ${row.flagBytes} B)`,
      );
    }
  } finally {
    redis.disconnect();
  }
  return rows;
}
