// ingest-api stopped with SIGTERM in the middle of a burst: it answers every request it took before it
// leaves (202: Kafka is up). The ids on the topic are exactly those answered 202: 202 means durable, and
// nothing is published and left unanswered on the way out.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readTopic, startPipeline, uid, type Pipeline } from './harness.ts';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ processor: false });
});
afterAll(async () => {
  await p?.stop();
});

it('SIGTERM during a burst: the requests taken are answered 202, and each 202 is on the topic', async () => {
  const account = uid('stop');
  const N = 400;
  let firstAnswer!: () => void;
  const answered = new Promise<void>((r) => (firstAnswer = r));
  const sends = Array.from({ length: N }, (_, i) =>
    p.post({ id: `${account}-${i}`, type: 'wallet.credit', account, amount: 1 }).then(
      (r) => {
        firstAnswer();
        return {
          id: `${account}-${i}`,
          status: r.status as number | 'no answer',
          code: r.body?.code as string | undefined,
        };
      },
      // Not taken: the listener had closed (connection refused or reset before an answer).
      () => ({ id: `${account}-${i}`, status: 'no answer' as const, code: undefined }),
    ),
  );
  await answered;
  await p.ingest.stop('SIGTERM');
  const results = await Promise.all(sends);

  const answers = results.filter((r) => r.status !== 'no answer');
  // Kafka stayed up: nothing the service took may be refused on its way out (no 503 kafka_unavailable).
  expect(answers.filter((r) => r.status !== 202)).toEqual([]);
  expect(answers.length).toBeGreaterThan(1);

  const onTopic = (await readTopic(p.kafka, p.topics.wallet)).map((m) => JSON.parse(m.value!.toString()).id as string);
  expect(new Set(onTopic).size).toBe(onTopic.length);
  // Both ways: each 202 is on the topic, and nothing is on the topic that its client got no answer for.
  const published = new Set(onTopic);
  expect(answers.filter((r) => !published.has(r.id))).toEqual([]);
  const answeredIds = new Set(answers.map((r) => r.id));
  expect(onTopic.filter((id) => !answeredIds.has(id))).toEqual([]);
});
