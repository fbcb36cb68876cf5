// Redis bytes per retained transaction, by type: what sizing a deployment needs. Posts a run of one type
// through ingest-api's batch route (so ingest's own record counts too), waits until the processor has
// applied all of it, and divides the growth of Redis's used_memory by the transactions. Each type runs on
// its own, after a setup that already filled the capped outcome feed, so what is counted is what every
// further transaction adds for as long as it is retained.
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { flagKey, statusKey } from '../../common/keys.ts';
import { sleep } from '../../stack/proc.ts';
import { waitForLag0 } from './kafka.ts';
import type { Pipeline } from './pipeline.ts';
import { Rng, type Body, type World } from '../mix.ts';

export interface MemoryRow {
  type: string;
  transactions: number;
  /** used_memory growth per transaction, bytes. */
  bytesPerTx: number;
  /** Keys added per transaction. */
  keysPerTx: number;
  /** MEMORY USAGE of the id's status record (ingest's claim + the outcome), averaged over a sample. */
  statusBytes: number;
  /** MEMORY USAGE of its idempotency flag on the first entity it touched, averaged over a sample. */
  flagBytes: number;
}

const holdTtl = 60 * 60_000;

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

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/** The first entity a body touches and its domain: where its flag lives. */
function flagOf(body: Body, id: string): string {
  // A transfer's first flag is its debit step's, on the source account.
  if (body.type === 'wallet.transfer') return flagKey('wallet', String(body.from), id, 'debit');
  if (body.type.startsWith('wallet.')) return flagKey('wallet', String(body.account), id);
  if (body.type.startsWith('stock.')) return flagKey('stock', String(body.sku), id);
  return flagKey('seats', String(body.event), id);
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
      const before = await usedMemory(redis);
      const ids: string[] = [];
      for (let i = 0; i < bodies.length; i += 500) ids.push(...(await post(o.pipeline, bodies.slice(i, i + 500))));
      const lag = await waitForLag0(o.admin, o.pipeline.groupId, o.pipeline.topics, o.settleMs);
      if (lag) throw new Error(`${type}: the processor is still ${lag} behind`);
      await sleep(1000);
      const after = await usedMemory(redis);
      const keys1 = await redis.dbsize();
      const sample = ids.slice(0, 200);
      const usage = async (keys: string[]) => {
        const sizes = await Promise.all(keys.map((k) => redis.memory('USAGE', k)));
        return Math.round(sizes.reduce<number>((s, b) => s + Number(b ?? 0), 0) / keys.length);
      };
      const row: MemoryRow = {
        type,
        transactions: o.n,
        bytesPerTx: Math.round((after - before) / o.n),
        keysPerTx: Math.round(((keys1 - keys0) / o.n) * 100) / 100,
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
