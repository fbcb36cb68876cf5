// A Redis that stops answering without closing the connection (toxiproxy holds every reply), made for
// real between the services and the run's Redis: ingest-api must keep answering within its bound, the
// processor must pause without wedging, and a member whose partitions were reassigned meanwhile must stop
// retrying them so the new owner gets them at once.
import { afterEach, describe, expect, it } from 'vitest';
import type { Proxy } from 'toxiproxy-node-client';
import { freePort } from '../stack/ports.ts';
import { proxyTcp } from '../stack/toxiproxy.ts';
import { pipeline, Service, services, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';
import { statusKey } from '../common/keys.ts';
import { statusField } from '../common/status.ts';

const faults = services().faults;
if (!faults)
  console.warn(
    'redis-faults.test.ts skipped: toxiproxy runs on the local stack only (services from env or testcontainers)',
  );

/** Every reply from Redis held back, the connection left open: a hung or black-holed Redis. */
const holdReplies = (proxy: Proxy) =>
  proxy.addToxic({
    name: 'hold-replies',
    type: 'timeout',
    stream: 'downstream',
    toxicity: 1,
    attributes: { timeout: 0 },
  });
const heal = (proxy: Proxy) =>
  proxy.getToxic('hold-replies').then(
    (t) => t.remove(),
    () => undefined,
  );

async function redisProxy(name: string): Promise<{ proxy: Proxy; url: string }> {
  const upstream = new URL(services().redisUrl).host;
  const proxy = await proxyTcp(faults!.toxiproxyUrl, name, upstream);
  return { proxy, url: `redis://${proxy.listen}` };
}

async function openAccounts(p: Pipeline, n: number): Promise<string[]> {
  const accounts = Array.from({ length: n }, () => uid('hang'));
  const opened = await Promise.all(accounts.map((account) => p.post({ type: 'wallet.open', account })));
  await waitForOutcomes(
    p,
    opened.map((r) => r.body.id as string),
  );
  return accounts;
}

const metric = async (url: string, name: string) => {
  const text = await fetch(url.replace('/readyz', '/metrics')).then((r) => r.text());
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
};

describe.runIf(faults)('Redis stops answering without closing', () => {
  let p: Pipeline | undefined;
  let proxy: Proxy | undefined;
  let extra: Service | undefined;
  afterEach(async () => {
    if (proxy) await heal(proxy);
    await extra?.stop();
    await p?.stop();
    await proxy?.remove().catch(() => undefined);
    [p, proxy, extra] = [undefined, undefined, undefined];
  });

  it('ingest answers within its bound, the processor pauses, and after healing everything is applied once', async () => {
    const r = await redisProxy(uid('redis-hang'));
    proxy = r.proxy;
    // Both services talk to Redis through the proxy; the test reads it directly.
    p = await startPipeline({ ingestEnv: { TXPIPE_REDIS_URL: r.url }, processorEnv: { TXPIPE_REDIS_URL: r.url } });
    const [account] = await openAccounts(p, 1);

    await holdReplies(proxy);
    const started = Date.now();
    const during = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${p!.ingestUrl}/v1/transactions`, {
          method: 'POST',
          headers: { ...p!.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'wallet.credit', account, amount: 3 }),
          signal: AbortSignal.timeout(10_000),
        }).then(async (res) => ({
          status: res.status,
          body: (await res.json()) as { id: string; idempotency?: string },
        })),
      ),
    );
    // Accepted into Kafka without the idempotency check, each within the bound, none left hanging.
    expect(during.map((d) => d.status)).toEqual(Array(50).fill(202));
    expect(during.every((d) => d.body.idempotency === 'unchecked')).toBe(true);
    expect(Date.now() - started).toBeLessThan(8000);
    const ready = await fetch(p.ingestUrl + '/readyz', { signal: AbortSignal.timeout(5000) });
    expect(ready.status).toBe(503);
    await waitFor(
      'the processor to retry',
      async () => (await metric(p!.processor.readyUrl, 'txpipe_processor_redis_retries_total')) > 0,
      20_000,
      250,
    );

    await heal(proxy);
    const outcomes = await waitForOutcomes(
      p,
      during.map((d) => d.body.id),
      60_000,
    );
    expect([...outcomes.values()].every((o) => o.status === 'applied')).toBe(true);
    await waitFor(
      'the balance',
      async () => (await p!.get(`/v1/accounts/${account}`)).body?.balance === 150,
      30_000,
      200,
    );
    // And Redis is answered again normally: a new request is checked.
    const after = await p.post({ type: 'wallet.credit', account, amount: 1 });
    expect(after.body).toEqual({ id: after.body.id, status: 'accepted' });
    await waitFor(
      'the last credit',
      async () => (await p!.get(`/v1/accounts/${account}`)).body?.balance === 151,
      30_000,
      200,
    );
  });

  it('a member whose batch hangs on Redis gives its partitions up at the rebalance instead of retrying beside the new owner', async () => {
    const r = await redisProxy(uid('redis-revoke'));
    proxy = r.proxy;
    p = await startPipeline({ processorEnv: { TXPIPE_REDIS_URL: r.url } });
    const accounts = await openAccounts(p, 24);

    await holdReplies(proxy);
    const credits = await Promise.all(
      accounts.map((account) => p!.post({ type: 'wallet.credit', account, amount: 5 })),
    );
    const ids = credits.map((c) => c.body.id as string);
    await waitFor(
      'the first member to retry',
      async () => (await metric(p!.processor.readyUrl, 'txpipe_processor_redis_retries_total')) > 0,
      20_000,
      250,
    );

    // A second member with a healthy Redis joins: its share must be applied soon, not after the rebalance
    // timeout (the first member stuck in its batch would hold the group's rebalance for a minute).
    const port = await freePort();
    extra = new Service(
      'processor',
      { ...p.processor.env, TXPIPE_REDIS_URL: services().redisUrl, TXPIPE_PROCESSOR_PORT: String(port) },
      `http://127.0.0.1:${port}/readyz`,
    );
    const joined = Date.now();
    await extra.start();
    await waitFor(
      'the new member to apply its share',
      async () => {
        const pipe = pipeline(p!.redis);
        for (const id of ids) pipe.hexists(statusKey(id), statusField.outcome);
        const done = ((await pipe.exec()) ?? []).filter(([, v]) => v === 1).length;
        return done > 0;
      },
      30_000,
      250,
    );
    expect(Date.now() - joined).toBeLessThan(30_000);

    await heal(proxy);
    await waitForOutcomes(p, ids, 90_000);
    const balances = await Promise.all(accounts.map((a) => p!.get(`/v1/accounts/${a}`).then((x) => x.body.balance)));
    expect(balances).toEqual(accounts.map(() => 5));
  });
});
