// Every Lua command runs unchanged on a real Redis Cluster: for every message type, the keys of its script
// call hash to one slot (CLUSTER KEYSLOT, asked of the cluster), and the call runs through ioredis's Cluster
// client. Also: each master holds its own watermark, and a pipeline spanning every master keeps its replies
// in the order the commands were queued.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { statusKey, watermarkField, watermarkKey } from '../../common/keys.ts';
import type { Message, MessageTypeName } from '../../common/messages/index.ts';
import { digestOf } from '../../common/messages/index.ts';
import { masters } from '../../common/redis.ts';
import { pipeline, sharedPipeline } from '../../common/redis-batch.ts';
import { defineScripts, callScript, type ScriptReply } from '../../lua/scripts.ts';
import { commandOf, entryOf, keysOf } from '../../processor/commands/index.ts';
import { Watermarks } from '../../processor/watermarks.ts';
import { services, testCluster, uid } from '../harness.ts';

let cluster: Cluster;
beforeAll(async () => {
  cluster = testCluster(services().redisCluster!);
  defineScripts(cluster);
  await cluster.ping();
});
afterAll(() => cluster?.disconnect());

/** One message of every type (a missing type fails to compile), on entities of its own. */
function samples(): Record<MessageTypeName, Message> {
  const [account, other, sku, event, hold] = [uid('a'), uid('b'), uid('sku'), uid('ev'), uid('h')];
  const id = () => uid('tx');
  return {
    'wallet.open': { id: id(), type: 'wallet.open', account, overdraft: 0 },
    'wallet.credit': { id: id(), type: 'wallet.credit', account, amount: 10 },
    'wallet.debit': { id: id(), type: 'wallet.debit', account, amount: 1 },
    'wallet.transfer': { id: id(), type: 'wallet.transfer', from: account, to: other, amount: 1 },
    'wallet.transfer.credit': { id: id(), type: 'wallet.transfer.credit', from: account, to: other, amount: 1 },
    'wallet.transfer.settle': { id: id(), type: 'wallet.transfer.settle', from: account, to: other, amount: 1 },
    'wallet.transfer.refund': { id: id(), type: 'wallet.transfer.refund', from: account, to: other, amount: 1 },
    'wallet.hold': { id: hold, type: 'wallet.hold', account, amount: 1, ttl: 60_000 },
    'wallet.capture': { id: id(), type: 'wallet.capture', account, hold },
    'wallet.void': { id: id(), type: 'wallet.void', account, hold },
    'wallet.expire': { id: hold, type: 'wallet.expire', account },
    'wallet.close': { id: id(), type: 'wallet.close', account },
    'stock.set': { id: id(), type: 'stock.set', sku, quantity: 10 },
    'stock.restock': { id: id(), type: 'stock.restock', sku, quantity: 1 },
    'stock.reserve': { id: hold, type: 'stock.reserve', sku, quantity: 1, customer: 'c1', ttl: 60_000 },
    'stock.confirm': { id: id(), type: 'stock.confirm', sku, reservation: hold },
    'stock.release': { id: id(), type: 'stock.release', sku, reservation: hold },
    'stock.expire': { id: hold, type: 'stock.expire', sku },
    'seats.define': { id: id(), type: 'seats.define', event, seats: ['A1', 'A2'] },
    'seats.hold': { id: hold, type: 'seats.hold', event, seats: ['A1'], holder: 'c1', ttl: 60_000 },
    'seats.confirm': { id: id(), type: 'seats.confirm', event, hold },
    'seats.release': { id: id(), type: 'seats.release', event, hold },
    'seats.expire': { id: hold, type: 'seats.expire', event },
  } as Record<MessageTypeName, Message>;
}

it.each(Object.entries(samples()))(
  '%s: every key of its script call is in one slot, and it runs on the cluster',
  async (_type, message) => {
    const spec = commandOf(message);
    const keys = keysOf(message, spec);
    const slots = await Promise.all(keys.map((k) => cluster.cluster('KEYSLOT', k) as Promise<number>));
    expect(new Set(slots).size, JSON.stringify(keys)).toBe(1);
    const reply = (await callScript(cluster, spec.script, keys, [
      digestOf(message),
      60_000,
      Date.now(),
      entryOf('7', message),
      ...spec.args(message),
    ])) as ScriptReply;
    expect(typeof reply[0]).toBe('string');
  },
);

it('each master gets a watermark tag of its own, and a watermark read is the lowest of theirs', async () => {
  const nodes = masters(cluster);
  expect(nodes).toHaveLength(3);
  const slots = await Promise.all(nodes.map((m) => cluster.cluster('KEYSLOT', watermarkKey(m.tag)) as Promise<number>));
  for (const [i, m] of nodes.entries()) {
    // The tag's slot is served by that very master.
    const owner = cluster.slots[slots[i]!]![0];
    expect(owner).toBe(`${m.node.options.host}:${m.node.options.port}`);
  }
  const topic = uid('wm');
  const watermarks = new Watermarks(cluster);
  expect(await watermarks.advance(topic, 0, undefined, 10)).toEqual({ moved: true });
  // One master loses its watermark (as a replica promoted while behind would): the partition reads as
  // the lowest, and a levelled read brings the others down to it.
  await nodes[1]!.node.hset(watermarkKey(nodes[1]!.tag), watermarkField(topic, 0), '4');
  expect(await watermarks.read([{ topic, partition: 0 }])).toEqual([4]);
  expect(await watermarks.advance(topic, 0, 10, 20)).toEqual({ moved: false, current: 4 });
  expect(await watermarks.read([{ topic, partition: 0 }], { level: true })).toEqual([4]);
  expect(await watermarks.advance(topic, 0, 4, 20)).toEqual({ moved: true });
});

it('a pipeline across every master answers in the order its commands were queued', async () => {
  const ids = Array.from({ length: 50 }, () => uid('ord'));
  const write = pipeline(cluster);
  ids.forEach((id, i) => write.hset(statusKey(id), 'n', String(i)));
  expect(((await write.exec()) ?? []).every(([err]) => err === null)).toBe(true);
  const replies = await sharedPipeline(cluster, (p) => ids.forEach((id) => p.hget(statusKey(id), 'n')), ids.length);
  expect(replies.map(([, v]) => Number(v))).toEqual(ids.map((_, i) => i));
});
