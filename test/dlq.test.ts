// Messages the processor cannot decode go to the DLQ with the reason; they never block their partition.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readTopic, startPipeline, uid, waitFor, waitForOutcomes, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ partitions: 1 });
});
afterAll(async () => {
  await p?.stop();
});

it('garbage and schema-invalid messages land in the DLQ and the valid message behind them is applied', async () => {
  const account = uid('dlq');
  const producer = p.kafka.producer();
  await producer.connect();
  const bad = [
    Buffer.from([0xff, 0x00, 0x13, 0x37]),
    Buffer.from('{"id":"x","type":"wallet.debit","account":"a","amount":"5"}'),
    Buffer.from('{"id":"y","type":"wallet.teleport","account":"a"}'),
    Buffer.from('[]'),
  ];
  const open = uid('open');
  const credit = uid('credit');
  // One partition: the valid messages sit behind the bad ones in the same log.
  await producer.send({
    topic: p.topics.wallet,
    acks: -1,
    messages: [
      ...bad.map((value) => ({ key: account, value })),
      { key: account, value: JSON.stringify({ id: open, type: 'wallet.open', account }) },
      { key: account, value: JSON.stringify({ id: credit, type: 'wallet.credit', account, amount: 42 }) },
    ],
  });
  await producer.disconnect();

  await waitForOutcomes(p, [open, credit]);
  expect((await p.get(`/v1/accounts/${account}`)).body.balance).toBe(42);

  const dead = await waitFor('4 dead letters', async () => {
    const records = await readTopic(p.kafka, p.topics.dlq);
    return records.length >= 4 && records;
  });
  expect(dead).toHaveLength(4);
  expect(dead.map((d) => d.value)).toEqual(bad);
  const reasons = dead.map((d) => d.headers!['txpipe-dlq-reason']!.toString());
  expect(reasons[0]).toMatch(/^not JSON/);
  expect(reasons[1]).toMatch(/amount/);
  expect(reasons[2]).toMatch(/type/);
  expect(reasons[3]).toMatch(/^invalid/);
  for (const d of dead) expect(d.headers!['txpipe-dlq-topic']!.toString()).toBe(p.topics.wallet);
});
