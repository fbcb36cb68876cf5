// Producers' namespaces: injective, reversible, and out of every client id's reach.
import { describe, expect, it } from 'vitest';
import { clientIdOf, producerOf, producerSeparator, scopedId, stepSeparator } from '../common/keys.ts';
import { Id, ProducerId, TxId } from '../common/messages/fields.ts';
import type { Message } from '../common/messages/index.ts';
import { inNamespace, shownId } from './namespace.ts';

describe('producer namespaces', () => {
  it('the separator is neither an id character nor a producer id character, nor the step separator', () => {
    expect(Id.safeParse(`a${producerSeparator}b`).success).toBe(false);
    expect(ProducerId.safeParse(`a${producerSeparator}b`).success).toBe(false);
    expect(producerSeparator).not.toBe(stepSeparator);
  });

  it('two producers with the same client id get different stored ids; the stored id gives both back', () => {
    expect(scopedId('a', 'x:1')).not.toBe(scopedId('a:x', '1'));
    expect(scopedId('checkout', 'order-17')).toBe('checkout~order-17');
    expect(producerOf('checkout~order-17')).toBe('checkout');
    expect(clientIdOf('checkout~order-17')).toBe('order-17');
    expect(producerOf('order-17')).toBeUndefined();
    expect(clientIdOf('order-17')).toBe('order-17');
    expect(scopedId(undefined, 'order-17')).toBe('order-17');
    // Stored ids travel on Kafka: the schemas take them, with or without a namespace.
    expect(TxId.safeParse('checkout~order-17').success).toBe(true);
    expect(TxId.safeParse('order-17').success).toBe(true);
    expect(TxId.safeParse('a~b~c').success).toBe(false);
    expect(TxId.safeParse(`checkout~${'x'.repeat(129)}`).success).toBe(false);
  });

  it('the id and every field naming a transaction go into the namespace; entities do not', () => {
    const capture = { id: 'c1', type: 'wallet.capture', account: 'alice', hold: 'h1' } as Message;
    expect(inNamespace(capture, 'shop')).toEqual({
      id: 'shop~c1',
      type: 'wallet.capture',
      account: 'alice',
      hold: 'shop~h1',
    });
    const confirm = { id: 'c2', type: 'stock.confirm', sku: 's', reservation: 'r1' } as Message;
    expect(inNamespace(confirm, 'shop')).toMatchObject({ sku: 's', reservation: 'shop~r1' });
    expect(inNamespace(capture, undefined)).toBe(capture);
  });

  it("a reader sees its own ids as it sent them, another producer's as stored", () => {
    expect(shownId('shop~h1', 'shop')).toBe('h1');
    expect(shownId('box~h1', 'shop')).toBe('box~h1');
    expect(shownId('h1', undefined)).toBe('h1');
  });
});
