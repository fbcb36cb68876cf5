// npm run dlq: a transaction that failed in its script (the account's key was not a hash) lands in the DLQ
// with its reason and origin; once the cause is fixed its replay applies it, a second replay is refused,
// and a forced one meets the flag (applied once).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { entityKey } from '../common/keys.ts';
import { runDlq } from '../ops/dlq-cli.ts';
import { apply } from './domains.ts';
import { readTopic, services, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  p = await startPipeline({ partitions: 1 });
  env = {
    TXPIPE_REDIS_URL: services().redisUrl,
    TXPIPE_TOPIC_PREFIX: p.prefix,
    TXPIPE_KAFKA_BROKERS: services().kafkaBrokers.join(','),
  };
});
afterAll(async () => {
  await p?.stop();
});

async function dlq(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runDlq(argv, env, (s) => lines.push(s));
  return { code, out: lines.join('\n') };
}

const resultsOf = async (id: string) =>
  (await readTopic(p.kafka, p.topics.results)).map((m) => JSON.parse(m.value!.toString())).filter((r) => r.id === id);

it('a dead letter is listed and shown, replayed once fixed, refused a second time unless --force', async () => {
  const account = uid('dlq');
  await p.redis.set(entityKey('wallet', account), 'not a hash');
  const credit = await p.post({ type: 'wallet.credit', account, amount: 5 });
  expect(credit.status).toBe(202);
  const id = credit.body.id as string;

  await waitFor('the dead letter', async () => (await dlq('list')).out.includes('wallet.credit'));
  const listed = await dlq('list');
  expect(listed.out).toMatch(
    new RegExp(`^0:0 +wallet.credit +from ${p.topics.wallet}/0@0 +script error: .*WRONGTYPE`, 'm'),
  );
  const shown = JSON.parse((await dlq('show', '0')).out);
  expect(shown).toMatchObject({
    address: '0:0',
    key: account,
    type: 'wallet.credit',
    origin: { topic: p.topics.wallet, partition: 0, offset: '0' },
  });
  expect(JSON.parse(shown.value)).toMatchObject({ id, account, amount: 5 });

  // The cause fixed: the account exists as it should.
  await p.redis.del(entityKey('wallet', account));
  expect((await apply(p, { type: 'wallet.open', account })).code).toBe('ok');

  const first = await dlq('replay', '--from', '0', '--to', '0', '--type', 'wallet.credit');
  expect(first).toMatchObject({ code: 0 });
  expect(first.out).toMatch(/^replayed 1 \(0:0\) by /);
  expect((await waitForOutcomes(p, [id])).get(id)).toMatchObject({ status: 'applied', code: 'ok' });
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(5);

  const again = await dlq('replay', '--from', '0', '--to', '0');
  expect(again.code).toBe(1);
  expect(again.out).toMatch(/already replayed, nothing published \(--force to replay again\): 0:0 by \S+@\S+ at /);
  expect((await dlq('list')).out).toMatch(/\[replayed by /);

  expect((await dlq('replay', '--from', '0', '--to', '0', '--force')).code).toBe(0);
  const results = await waitFor("the forced replay's outcome", async () => {
    const r = await resultsOf(id);
    return r.length >= 2 && r;
  });
  expect(results.map((r) => r.duplicate)).toEqual([false, true]);
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(5);
  expect((await dlq('list')).out).toMatch(/\(2 times\)/);
  // Nothing matches: said so, exit 1.
  expect((await dlq('replay', '--type', 'stock.set')).code).toBe(1);
});
