// common/kafka-sender.ts against a fake producer (no broker): calls bounded by bytes, a fresh producer after
// any failed call, a merged call that fails retried per caller, and what each failure says.
import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaSender, KafkaSendError, RecordTooLargeError } from '../common/kafka-sender.ts';
import { limits } from '../common/limits.ts';
import { createLogger } from '../common/log.ts';

/** Fake producers: each call is recorded with the producer that made it; `fail` decides a call's fate. */
function fakes(fail: (batch: ProducerBatch, producer: number) => Error | undefined = () => undefined) {
  const calls: Array<{ producer: number; values: string[] }> = [];
  let made = 0;
  const create = () => {
    const id = ++made;
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async (batch: ProducerBatch) => {
        calls.push({
          producer: id,
          values: batch.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))),
        });
        const e = fail(batch, id);
        if (e) throw e;
        return [];
      },
    } as unknown as Producer;
  };
  return { calls, create, made: () => made };
}

const log = createLogger('test', 'error');
const record = (value: string) => ({ topic: 't', messages: [{ key: 'k', value }] });

describe('KafkaSender', () => {
  it('queues what arrives in one turn into one call, and splits calls at maxProduceBytes', async () => {
    const f = fakes();
    const sender = new KafkaSender({ create: f.create, log });
    await sender.connect();
    const big = 'x'.repeat(200 * 1024);
    await Promise.all([
      sender.send([record('a')]),
      sender.send([record('b')]),
      sender.send([record(big), record(big), record(big)].flat()),
    ]);
    expect(f.calls.map((c) => c.values.length)).toEqual([4, 1]);
    expect(f.calls.every((c) => c.values.join('').length <= limits.maxProduceBytes)).toBe(true);
    expect(sender.pending).toBe(0);
  });

  it('after a failed call, connects a fresh producer; the failed caller learns its records may be in the log', async () => {
    const f = fakes((_b, producer) => (producer === 1 ? new Error('Closed connection') : undefined));
    const sender = new KafkaSender({ create: f.create, log });
    await sender.connect();
    const failed = await sender.send([record('a')]).catch((e: KafkaSendError) => e);
    expect(failed).toBeInstanceOf(KafkaSendError);
    expect((failed as KafkaSendError).published).toBe('unknown');
    // Refused at once, nothing sent, until the fresh producer is connected.
    const refused = await sender.send([record('b')]).catch((e: KafkaSendError) => e);
    expect((refused as KafkaSendError).published).toBe('no');
    await new Promise((r) => setTimeout(r, 20));
    expect(sender.connected).toBe(true);
    await sender.send([record('c')]);
    expect(f.calls.map((c) => [c.producer, c.values])).toEqual([
      [1, ['a']],
      [2, ['c']],
    ]);
  });

  it('a merged call that fails is sent again per caller: one bad caller fails alone', async () => {
    const f = fakes((b) =>
      b.topicMessages!.some((t) => t.messages.some((m) => m.value === 'bad')) ? new Error('refused') : undefined,
    );
    const sender = new KafkaSender({ create: f.create, log });
    await sender.connect();
    const results = await Promise.allSettled([
      sender.send([record('a')]),
      sender.send([record('bad')]),
      sender.send([record('c')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(f.calls.map((c) => c.values)).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
    expect(f.made()).toBe(3);
    expect(sender.pending).toBe(0);
  });

  it('a caller split across calls whose later call fails is failed whole, and the queue count stays right', async () => {
    const big = 'x'.repeat(300 * 1024);
    const f = fakes((b, producer) =>
      producer === 1 && b.topicMessages!.some((t) => t.messages.some((m) => m.value === `${big}2`))
        ? new Error('no answer')
        : undefined,
    );
    const sender = new KafkaSender({ create: f.create, log });
    await sender.connect();
    const split = sender.send([record(`${big}1`), record(`${big}2`), record(`${big}3`)]);
    await expect(split).rejects.toMatchObject({ published: 'unknown' });
    expect(sender.pending).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    await sender.send([record('after')]);
    expect(f.calls.map((c) => [c.producer, c.values.length])).toEqual([
      [1, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  it('refuses a record no call can carry, before sending anything', async () => {
    const f = fakes();
    const sender = new KafkaSender({ create: f.create, log });
    await sender.connect();
    await expect(sender.send([record('x'.repeat(limits.maxRecordBytes))])).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(f.calls).toEqual([]);
  });
});
