import { customersKey, entityKey, holdKey } from '../../common/keys.ts';
import type { MessageOf } from '../../common/messages/index.ts';
import { endsHold, expireStep, opensHold } from './holds.ts';
import type { CommandSpec } from './types.ts';

const sku = (m: { sku: string }) => [entityKey('stock', m.sku)];
/** The keys of every script on a reservation: sku hash, reservation hash, customers hash. */
const skuReservation = (m: { sku: string }, reservation: string) => [
  entityKey('stock', m.sku),
  holdKey('stock', m.sku, reservation),
  customersKey(m.sku),
];
const counts = ['available', 'reserved', 'sold'] as const;
const endsReservation = endsHold('reservation', (m: { reservation: string }) => m.reservation);

export const stockCommands = {
  'stock.set': {
    domain: 'stock',
    script: 'stock.set',
    keys: sku,
    result: counts,
    // '' leaves the limit as it is (lua/stock.set-2.lua).
    args: (m) => [m.quantity, m.perCustomerLimit ?? ''],
  } satisfies CommandSpec<MessageOf<'stock.set'>>,
  'stock.restock': {
    domain: 'stock',
    script: 'stock.restock',
    keys: sku,
    result: counts,
    args: (m) => [m.quantity],
  } satisfies CommandSpec<MessageOf<'stock.restock'>>,
  'stock.reserve': {
    domain: 'stock',
    script: 'stock.reserve',
    result: counts,
    keys: (m) => skuReservation(m, m.id),
    args: (m) => [m.quantity, m.customer, m.ttl],
    expiring: opensHold,
  } satisfies CommandSpec<MessageOf<'stock.reserve'>>,
  'stock.confirm': {
    domain: 'stock',
    script: 'stock.confirm',
    result: counts,
    keys: (m) => skuReservation(m, m.reservation),
    args: () => [],
    expiring: endsReservation,
  } satisfies CommandSpec<MessageOf<'stock.confirm'>>,
  'stock.release': {
    domain: 'stock',
    script: 'stock.release',
    result: counts,
    keys: (m) => skuReservation(m, m.reservation),
    args: () => [],
    expiring: endsReservation,
  } satisfies CommandSpec<MessageOf<'stock.release'>>,
  'stock.expire': {
    domain: 'stock',
    script: 'stock.expire',
    result: counts,
    ...expireStep,
    keys: (m) => skuReservation(m, m.id),
    args: () => [],
  } satisfies CommandSpec<MessageOf<'stock.expire'>>,
};
