// The cluster topology under node loss: three KRaft brokers (replication 3, min.insync.replicas 2), a Redis
// Cluster of three masters with a replica each, two ingest-apis and two processors in one group. Under a
// mixed load of credits and transfers, one part is SIGKILLed at a time; afterwards every transaction answered
// 202 has exactly one outcome and every balance is what those outcomes add up to (each applied once).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { entityKey } from '../../common/keys.ts';
import { startKafkaCluster, type KafkaCluster } from '../../stack/kafka.ts';
import { startRedisCluster, type RedisCluster } from '../../stack/redis-cluster.ts';
import {
  Service,
  sleep,
  startAnother,
  startPipeline,
  testCluster,
  uid,
  waitFor,
  waitForOutcomes,
  type Pipeline,
} from '../harness.ts';
import { applyAll } from '../domains.ts';

let dir: string;
let kafka: KafkaCluster;
let redis: RedisCluster;
let p: Pipeline;
let ingest2: Service;
let processor2: Service;
let client: Cluster;
const t0 = Date.now();
/** Progress on the test's output: a fault run is long, and where it waits is what to know when it fails. */
const step = (s: string) => console.log(`[cluster faults +${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);
/** Each fault: load, fault, heal, drain and check, bounded well within this. */
const faultTimeoutMs = 300_000;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-cluster-faults-'));
  [kafka, redis] = await Promise.all([
    startKafkaCluster({ dataDir: path.join(dir, 'kafka'), size: 3 }),
    startRedisCluster({ dir: path.join(dir, 'redis') }),
  ]);
  p = await startPipeline({
    services: { kafkaBrokers: kafka.brokers, redisUrl: '', redisCluster: redis.nodes, replication: 3, source: 'local' },
    env: { TXPIPE_WATERMARK_CHECK_MS: '500', TXPIPE_LOG_LEVEL: 'warn' },
  });
  [{ service: ingest2 }, { service: processor2 }] = await Promise.all([
    startAnother(p, 'ingest-api'),
    startAnother(p, 'processor'),
  ]);
  client = testCluster(redis.nodes);
  step('cluster and services up');
}, 240_000);

afterAll(async () => {
  await Promise.all([ingest2?.stop(), processor2?.stop()]);
  await p?.stop();
  client?.disconnect();
  await Promise.all([kafka?.stop(), redis?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

const ingestUrls = () => [p.ingestUrl, ingest2.readyUrl.replace('/readyz', '')];

interface Sent {
  id: string;
  body: { type: string; account?: string; from?: string; to?: string; amount: number };
}

/**
 * Credits and transfers among `accounts` for `ms`, alternating between the two ingest-apis, bounded in
 * count. A 503 is retried with the same id, as a client should; what was answered 202 is returned.
 */
async function load(accounts: string[], ms: number, onTick?: (elapsed: number) => Promise<void> | void) {
  const accepted: Sent[] = [];
  const unavailable: number[] = [];
  const started = Date.now();
  const urls = ingestUrls();
  let n = 0;
  const pending = new Set<Promise<void>>();
  const refused: string[] = [];
  while (Date.now() - started < ms && n < 3000) {
    const i = n++;
    const id = uid('tx');
    const from = accounts[i % accounts.length]!;
    const to = accounts[(i * 7 + 3) % accounts.length]!;
    const body =
      i % 3 === 0
        ? { type: 'wallet.credit', account: from, amount: 1 + (i % 5) }
        : {
            type: 'wallet.transfer',
            from,
            to: to === from ? accounts[(i + 1) % accounts.length]! : to,
            amount: 1 + (i % 3),
          };
    const send = async () => {
      for (let attempt = 0; attempt < 40; attempt++) {
        const r = await fetch(`${urls[(i + attempt) % urls.length]}/v1/transactions`, {
          method: 'POST',
          headers: { ...p.auth, 'content-type': 'application/json', 'idempotency-key': id },
          body: JSON.stringify(body),
        }).catch(() => undefined);
        if (r?.status === 202) return void accepted.push({ id, body });
        if (r && r.status !== 503) throw new Error(`unexpected ${r.status}: ${await r.text()}`);
        unavailable.push(Date.now() - started);
        await sleep(250);
      }
    };
    const job: Promise<void> = send()
      .catch((e: Error) => void refused.push(e.message))
      .finally(() => pending.delete(job));
    pending.add(job);
    if (pending.size >= 20) await Promise.race(pending);
    await onTick?.(Date.now() - started);
    await sleep(5);
  }
  await Promise.all(pending);
  // Anything but 202 or 503 is a defect of the pipeline, not of the fault.
  expect(refused, 'answers other than 202 and 503').toEqual([]);
  return { accepted, unavailable };
}

/** Every accepted id has one outcome; every balance is its start plus what the applied outcomes move. */
async function expectExactlyOnce(accounts: string[], start: number, accepted: Sent[]) {
  step(`waiting for the outcomes of ${accepted.length} accepted transactions`);
  const outcomes = await waitForOutcomes(
    p,
    accepted.map((s) => s.id),
    180_000,
  );
  const expected = new Map(accounts.map((a) => [a, start]));
  for (const s of accepted) {
    const o = outcomes.get(s.id)!;
    if (o.status !== 'applied') continue;
    if (s.body.type === 'wallet.credit') expected.set(s.body.account!, expected.get(s.body.account!)! + s.body.amount);
    else {
      expected.set(s.body.from!, expected.get(s.body.from!)! - s.body.amount);
      expected.set(s.body.to!, expected.get(s.body.to!)! + s.body.amount);
    }
  }
  step('outcomes in; waiting for the transfers in flight to settle');
  // Transfers settle through later steps: wait until nothing is in flight, then compare.
  await waitFor(
    'no transfer in flight',
    async () => {
      const rows = await Promise.all(accounts.map((a) => client.hget(entityKey('wallet', a), 'outgoing')));
      return rows.every((v) => Number(v ?? 0) === 0);
    },
    120_000,
    250,
  );
  const balances = await Promise.all(
    accounts.map(async (a) => [a, Number(await client.hget(entityKey('wallet', a), 'balance'))] as const),
  );
  expect(Object.fromEntries(balances)).toEqual(Object.fromEntries(expected));
  return outcomes;
}

async function openAccounts(n: number, start: number): Promise<string[]> {
  const accounts = Array.from({ length: n }, () => uid('acct'));
  await applyAll(
    p,
    accounts.map((account) => ({ type: 'wallet.open', account })),
  );
  await applyAll(
    p,
    accounts.map((account) => ({ type: 'wallet.credit', account, amount: start })),
  );
  return accounts;
}

it(
  'one of two processors SIGKILLed mid-run: the other takes its partitions, each transaction applied once',
  async () => {
    const accounts = await openAccounts(20, 1000);
    let killed = false;
    const { accepted } = await load(accounts, 8000, async (elapsed) => {
      if (!killed && elapsed > 2500) {
        killed = true;
        step('killing a processor');
        await processor2.stop('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    expect(accepted.length, 'the load was accepted before and after the fault').toBeGreaterThan(100);
    await expectExactlyOnce(accounts, 1000, accepted);
    step(`processor killed: ${accepted.length} accepted, all applied once`);
    await processor2.start();
  },
  faultTimeoutMs,
);

it(
  'a Redis master SIGKILLed mid-run: its replica is promoted, the processors follow, each transaction applied once',
  async () => {
    const accounts = await openAccounts(20, 1000);
    const [victim] = await redis.masters();
    const member = redis.members.find((m) => m.address === victim)!;
    let killed = false;
    const { accepted, unavailable } = await load(accounts, 10_000, async (elapsed) => {
      if (!killed && elapsed > 2500) {
        killed = true;
        step(`killing Redis master ${victim}`);
        await member.server!.kill();
      }
    });
    expect(killed).toBe(true);
    expect(accepted.length, 'the load was accepted before and after the fault').toBeGreaterThan(100);
    step(`load done: ${accepted.length} accepted, ${unavailable.length} 503s retried`);
    await waitFor(
      'a replica promoted in its place',
      async () => !(await redis.masters()).includes(victim!) && (await redis.masters()).length === 3,
      60_000,
      250,
    );
    await expectExactlyOnce(accounts, 1000, accepted);
    step(
      `Redis master ${victim} killed: ${accepted.length} accepted, ${unavailable.length} 503s retried, all applied once`,
    );
    // Back as a replica of the promoted one.
    await member.start();
    await redis.waitHealthy();
  },
  faultTimeoutMs,
);

it(
  'one Kafka broker SIGKILLed: nothing accepted is lost, 503s only during the election; two down: acks=all refuses',
  async () => {
    const accounts = await openAccounts(20, 1000);
    const victim = kafka.nodes[0]!;
    let killed = false;
    let killedAt = 0;
    const first = await load(accounts, 10_000, async (elapsed) => {
      if (!killed && elapsed > 2500) {
        killed = true;
        killedAt = elapsed;
        step(`killing Kafka broker ${victim.nodeId}`);
        await victim.server!.kill();
      }
    });
    expect(killed).toBe(true);
    expect(first.accepted.length, 'the load was accepted before and after the fault').toBeGreaterThan(100);
    // 503s only while the dead broker's partitions had no leader (it is fenced after 4 s, and a produce already
    // sent to it waits out its 5 s timeout); then the pipeline resumed without restarts.
    const refusedFor = Math.max(0, ...first.unavailable) - killedAt;
    expect(refusedFor, '503s only around the leader elections').toBeLessThan(12_000);
    expect(
      first.unavailable.every((at) => at >= killedAt),
      'no 503 before the kill',
    ).toBe(true);
    await expectExactlyOnce(accounts, 1000, first.accepted);
    step(
      `broker ${victim.nodeId} killed: ${first.accepted.length} accepted, ${first.unavailable.length} 503s retried, all applied once`,
    );

    // Back, then two down: one copy left, and acks=all with min.insync.replicas=2 refuses to accept on it.
    await victim.start();
    step('broker back; killing the other two');
    await Promise.all(kafka.nodes.slice(1).map((n) => n.server!.kill()));
    const refused = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        fetch(`${ingestUrls()[i % 2]}/v1/transactions`, {
          method: 'POST',
          headers: { ...p.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'wallet.credit', account: accounts[i]!, amount: 1 }),
        }).then(async (r) => ({ status: r.status, body: await r.json() })),
      ),
    );
    for (const r of refused) {
      expect(r.status, JSON.stringify(r.body)).toBe(503);
      expect(r.body.id, 'the 503 names the id to retry with').toEqual(expect.any(String));
    }
    step('all five refused with 503; restarting both');
    await Promise.all(kafka.nodes.slice(1).map((n) => n.start()));
    // Healed: accepted and applied again, without restarting any service.
    const id = uid('healed');
    await waitFor(
      'accepted again',
      async () => (await p.post({ id, type: 'wallet.credit', account: accounts[0]!, amount: 1 })).status === 202,
      120_000,
      500,
    );
    expect((await waitForOutcomes(p, [id], 120_000)).get(id)!.status).toBe('applied');
    step('healed: accepted and applied again');
  },
  faultTimeoutMs,
);
