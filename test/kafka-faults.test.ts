// Kafka's answer comes late or never, made for real: toxiproxy between one service and the broker
// swallows every response (the requests still reach the broker, which may append them) and closes the
// connection, for longer than the producer's retries; then the fault heals. And a batch at the byte limit
// beside single posts. Each test runs against the real broker and Redis of the run.
import { afterEach, describe, expect, it } from 'vitest';
import type { Proxy } from 'toxiproxy-node-client';
import { limits } from '../common/limits.ts';
import { kafkaProxyName } from '../stack/services.ts';
import { getProxy, proxyTcp } from '../stack/toxiproxy.ts';
import { readTopic, services, sleep, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { statusKey } from '../common/keys.ts';
import { statusField } from '../common/status.ts';

const faults = services().faults;
if (!faults)
  console.warn(
    'kafka-faults.test.ts skipped: toxiproxy runs on the local stack only (services from env or testcontainers)',
  );

/** Responses from the broker never arrive; each connection is closed after `closeAfterMs` (the client reconnects into the same). */
async function swallowResponses(proxy: Proxy, closeAfterMs = 500) {
  return proxy.addToxic({
    name: 'swallow-responses',
    type: 'timeout',
    stream: 'downstream',
    toxicity: 1,
    attributes: { timeout: closeAfterMs },
  });
}

/** Calls fn(i) for i < count, one every `everyMs` (bounded concurrency by pacing), and waits for all. */
async function paced<T>(count: number, everyMs: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const all: Promise<T>[] = [];
  for (let i = 0; i < count; i++) {
    all.push(fn(i));
    await sleep(everyMs);
  }
  return Promise.all(all);
}

/** /readyz answers seen every 200 ms until stop(). */
function watchReadiness(url: string) {
  const seen: number[] = [];
  const timer = setInterval(() => {
    void fetch(`${url}/readyz`).then(
      (r) => seen.push(r.status),
      () => seen.push(0),
    );
  }, 200);
  return { seen, stop: () => clearInterval(timer) };
}

async function idsOnTopic(p: Pipeline, topic: string): Promise<Set<string>> {
  return new Set((await readTopic(p.kafka, topic)).map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id));
}

async function openAccounts(p: Pipeline, n: number, label: string): Promise<string[]> {
  const accounts = Array.from({ length: n }, () => uid(label));
  const opened = await Promise.all(accounts.map((account) => p.post({ type: 'wallet.open', account })));
  expect(opened.map((r) => r.status)).toEqual(accounts.map(() => 202));
  await waitForOutcomes(
    p,
    opened.map((r) => r.body.id as string),
  );
  return accounts;
}

describe.runIf(faults)('Kafka responses swallowed, then healed', () => {
  let pipeline: Pipeline | undefined;
  let proxy: Proxy;
  afterEach(async () => {
    await proxy?.getToxic('swallow-responses').then(
      (t) => t.remove(),
      () => undefined,
    );
    await pipeline?.stop();
    pipeline = undefined;
    await getProxy(faults!.toxiproxyUrl, 'redis-processor').then(
      (p) => p.remove(),
      () => undefined,
    );
  });

  it('between ingest-api and Kafka: every 202 is on the topic, every 503 retried with its id applies once, new requests succeed after', async () => {
    proxy = await getProxy(faults!.toxiproxyUrl, kafkaProxyName);
    const p = (pipeline = await startPipeline({ ingestEnv: { TXPIPE_KAFKA_BROKERS: faults!.kafkaProxied.join(',') } }));
    const accounts = await openAccounts(p, 10, 'acct');
    const credit = (i: number) => ({ type: 'wallet.credit', account: accounts[i % accounts.length]!, amount: i + 1 });

    // 300 credits without ids over ~20 s; responses swallowed from 2 s to 18 s, longer than kafkajs's own
    // retries take to give up (~13 s here) and than the sender's deadline (limits.produceTimeoutMs).
    const readiness = watchReadiness(p.ingestUrl);
    const fault = (async () => {
      await sleep(2_000);
      const toxic = await swallowResponses(proxy);
      await sleep(16_000);
      await toxic.remove();
    })();
    const answers = await paced(300, 66, async (i) => ({ i, ...(await p.post(credit(i))) }));
    await fault;
    await waitFor(
      'ingest-api ready again after healing',
      async () => (await fetch(`${p.ingestUrl}/readyz`)).ok,
      30_000,
    );
    readiness.stop();

    const accepted = answers.filter((a) => a.status === 202);
    const unavailable = answers.filter((a) => a.status === 503);
    expect(accepted.length + unavailable.length).toBe(answers.length);
    expect(unavailable.length).toBeGreaterThan(0);

    // Healed, same process: new requests are accepted (a producer stuck on a rolled-back sequence refuses them).
    const fresh = await Promise.all(Array.from({ length: 30 }, (_, j) => p.post(credit(300 + j))));
    expect(fresh.filter((r) => r.status !== 202).map((r) => r.body)).toEqual([]);

    // A 202 is a record in the log: none acknowledged and dropped as a "duplicate" of another.
    const onTopic = await idsOnTopic(p, p.topics.wallet);
    const acceptedIds = [...accepted, ...fresh].map((a) => a.body.id as string);
    expect(acceptedIds.filter((id) => !onTopic.has(id))).toEqual([]);

    // Every 503 names the transaction and says whether it may be in the log; a retry with that id is safe.
    for (const a of unavailable) {
      expect(a.body).toMatchObject({
        code: expect.stringMatching(/^(kafka_unavailable|overloaded)$/),
        id: expect.any(String),
        published: expect.stringMatching(/^(no|unknown)$/),
      });
    }
    let retries = 0;
    for (const a of unavailable) {
      await waitFor(
        `retry of ${a.body.id} accepted`,
        async () => {
          retries++;
          return (await p.post({ ...credit(a.i), id: a.body.id })).status === 202;
        },
        30_000,
        250,
      );
    }

    const allIds = [...answers.map((a) => (a.body.id ?? '') as string), ...fresh.map((r) => r.body.id as string)];
    const outcomes = await waitForOutcomes(p, allIds, 60_000);
    expect([...outcomes.values()].filter((o) => o.status !== 'applied')).toEqual([]);
    // Exactly once: each balance is the sum of its credits (a credit applied twice or lost shows here).
    const expected = new Map(accounts.map((a) => [a, 0]));
    for (let i = 0; i < 330; i++) expected.set(credit(i).account, expected.get(credit(i).account)! + credit(i).amount);
    for (const account of accounts)
      expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(expected.get(account));

    const notReady = readiness.seen.filter((s) => s !== 200).length;
    console.log(
      `ingest fault: ${accepted.length} answered 202, ${unavailable.length} answered 503 ` +
        `(${unavailable.filter((a) => a.body.published === 'unknown').length} unknown, ${unavailable.filter((a) => a.body.published === 'no').length} not published), ` +
        `${retries} retries until all accepted, ${outcomes.size} applied; /readyz not ready ${notReady} of ${readiness.seen.length} polls`,
    );
    // Honest readiness: not ready while the producer could not be trusted, ready again after.
    expect(notReady).toBeGreaterThan(0);
  });

  it('between the processor and Kafka: every transfer settles or refunds, money is conserved, no partition stays stalled', async () => {
    proxy = await getProxy(faults!.toxiproxyUrl, kafkaProxyName);
    // The processor's Redis answers 200 ms late: it spends its rounds waiting on Redis with a batch in hand,
    // so when Kafka stops answering, it is about to publish (not only to fetch).
    const slowRedis = await proxyTcp(faults!.toxiproxyUrl, 'redis-processor', new URL(services().redisUrl).host);
    await slowRedis.addToxic({
      name: 'latency',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 200, jitter: 0 },
    });
    const p = (pipeline = await startPipeline({
      processorEnv: {
        TXPIPE_KAFKA_BROKERS: faults!.kafkaProxied.join(','),
        TXPIPE_REDIS_URL: `redis://${slowRedis.listen}`,
      },
    }));
    const accounts = await openAccounts(p, 12, 'acct');
    const funded = await Promise.all(
      accounts.map((account) => p.post({ type: 'wallet.credit', account, amount: 10_000 })),
    );
    await waitForOutcomes(
      p,
      funded.map((r) => r.body.id as string),
    );

    // 300 transfers wait in the log (ingest talks to Kafka directly), then the processor starts on them.
    await p.processor.stop();
    const transfers = await paced(300, 2, (i) =>
      p.post({
        type: 'wallet.transfer',
        from: accounts[i % 12]!,
        to: accounts[(i * 5 + 1) % 12]!,
        amount: 1 + (i % 50),
      }),
    );
    expect(transfers.map((r) => r.status)).toEqual(transfers.map(() => 202));
    const ids = transfers.map((r) => r.body.id as string);
    await p.processor.start();
    let replaced = 0;
    p.processor.child!.stderr!.on('data', (b: Buffer) => {
      replaced += b.toString().split('replacing the producer').length - 1;
    });
    // The processor has debited some (a transfer's step or outcome is recorded by the processor only).
    await waitFor(
      'the processor under way',
      async () => {
        const pipe = p.redis.pipeline();
        for (const id of ids) pipe.hmget(statusKey(id), statusField.step, statusField.outcome);
        return ((await pipe.exec()) ?? []).some(([, v]) => (v as Array<string | null>).some(Boolean));
      },
      30_000,
      20,
    );
    // Longer than kafkajs's own retries take to give up inside the processor (its reconnects retry too).
    // Credits keep arriving throughout and for 3 s after: the processor's next publishes mix them with its retries.
    const toxic = await swallowResponses(proxy);
    let credits = 0;
    const steady = (async () => {
      const until = Date.now() + 33_000;
      const posts: Array<Promise<unknown>> = [];
      for (let i = 0; Date.now() < until; i++, credits++) {
        posts.push(
          p
            .post({ type: 'wallet.credit', account: accounts[i % 12]!, amount: 1 })
            .then((r) => expect(r.status).toBe(202)),
        );
        await sleep(100);
      }
      await Promise.all(posts);
    })();
    await sleep(30_000);
    await toxic.remove();
    await steady;

    const outcomes = await waitForOutcomes(p, ids, 45_000);
    expect([...outcomes.values()].filter((o) => o.status !== 'applied' && o.status !== 'rejected')).toEqual([]);
    // Healed: every account's partition moves again (its last credit applies), and money is conserved.
    const after = await Promise.all(accounts.map((account) => p.post({ type: 'wallet.credit', account, amount: 1 })));
    await waitForOutcomes(
      p,
      after.map((r) => r.body.id as string),
      30_000,
    );
    const wallets = await Promise.all(accounts.map(async (a) => (await p.get(`/v1/accounts/${a}`)).body));
    expect(wallets.reduce((n, w) => n + w.balance, 0)).toBe(12 * 10_000 + credits + 12);
    expect(wallets.filter((w) => w.outgoing !== 0 || w.balance < 0)).toEqual([]);
    // Every outcome was published, none acknowledged and dropped.
    const results = await idsOnTopic(p, p.topics.results);
    expect(ids.filter((id) => !results.has(id))).toEqual([]);
    // The fault did meet a publish, not only fetches (the sender logs each producer it replaces).
    expect(replaced).toBeGreaterThan(0);
    const count = (status: string) => [...outcomes.values()].filter((o) => o.status === status).length;
    console.log(
      `processor fault: ${transfers.length} transfers accepted, ${count('applied')} applied, ${count('rejected')} rejected; ` +
        `producer replaced ${replaced} times after a failed publish; all ${ids.length} outcomes on the results topic; money conserved`,
    );
  });
});

describe('produce calls bounded by bytes', () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });

  /** seats.define items for one event (one partition), as many as fit in a batch body. */
  function batchAtByteLimit(event: string) {
    const seats = Array.from({ length: 40 }, (_, j) => `row-${String(j).padStart(3, '0')}-seat-long-name`);
    const items: unknown[] = [];
    const body = () => JSON.stringify({ transactions: items });
    for (;;) {
      items.push({ id: uid('def'), type: 'seats.define', event, seats });
      if (Buffer.byteLength(body()) > limits.maxBatchBytes - 2048) {
        items.pop();
        return { items, body: body() };
      }
    }
  }

  it('a batch at the byte limit for one entity beside concurrent single posts: the single posts are all accepted', async () => {
    const p = (pipeline = await startPipeline());
    const singles: Array<{ status: number; body: any }> = [];
    // A few rounds, so that single posts land in the same produce calls as the batch's records.
    for (let round = 0; round < 3; round++) {
      const batch = batchAtByteLimit(uid('gig'));
      let answered = false;
      const postBatch = fetch(`${p.ingestUrl}/v1/transactions/batch`, {
        method: 'POST',
        headers: { ...p.auth, 'content-type': 'application/json' },
        body: batch.body,
      })
        .then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { results: Array<{ status: string; error?: { code: string } }> },
        }))
        .finally(() => {
          answered = true;
        });
      const posts: Array<Promise<{ status: number; body: any }>> = [];
      for (let i = 0; i < 300 && !answered; i++) {
        posts.push(p.post({ type: 'wallet.open', account: uid('acct') }));
        await sleep(2);
      }
      const batchAnswer = await postBatch;
      singles.push(...(await Promise.all(posts)));
      expect(batchAnswer.status).toBe(200);
      expect(batchAnswer.body.results.filter((r) => r.status !== 'accepted')).toEqual([]);
    }
    expect(singles.filter((r) => r.status !== 202).map((r) => r.body)).toEqual([]);
    await waitForOutcomes(
      p,
      singles.map((r) => r.body.id as string),
      60_000,
    );
    console.log(
      `byte limit: 3 batches at the byte limit for one event each, beside ${singles.length} single posts, all accepted`,
    );
  });

  it('refuses up front (413) a transaction whose record can never fit the broker, and accepts the rest of its batch', async () => {
    const p = (pipeline = await startPipeline({ processor: false }));
    const event = uid('arena');
    const seats = Array.from(
      { length: limits.maxSeatsPerEvent },
      (_, j) => `${String(j).padStart(5, '0')}-${'s'.repeat(95)}`,
    );
    const body = JSON.stringify({
      transactions: [
        { type: 'seats.define', event, seats },
        { type: 'wallet.open', account: uid('acct') },
      ],
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(limits.maxBatchBytes);
    const r = await fetch(`${p.ingestUrl}/v1/transactions/batch`, {
      method: 'POST',
      headers: { ...p.auth, 'content-type': 'application/json' },
      body,
    });
    const { results } = (await r.json()) as {
      results: Array<{ status: string; error?: { status: number; code: string } }>;
    };
    expect(results[0]).toMatchObject({ status: 'refused', error: { status: 413, code: 'transaction_too_large' } });
    expect(results[1]).toMatchObject({ status: 'accepted' });
  });
});
