// stock.* message types (flash sale): a sku's stock, reservations with a ttl, per-customer limits.
import { z } from 'zod';
import { Amount, Id, TxId, NonNegative, TtlMs } from './fields.ts';

/**
 * Sets the sku's total stock (sold + reserved + available) and, when given, its per-customer limit (0: none).
 * An omitted limit is left as it is (none for a new sku): a restock-style set must not lift a sale's limit.
 */
export const stockSet = z.strictObject({
  id: TxId,
  type: z.literal('stock.set'),
  sku: Id,
  quantity: Amount,
  perCustomerLimit: NonNegative.optional(),
});

/** Adds units to the stock. */
export const stockRestock = z.strictObject({
  id: TxId,
  type: z.literal('stock.restock'),
  sku: Id,
  quantity: Amount,
});

/** Reserves units for a customer for `ttl` ms. Its id is the reservation's. */
export const stockReserve = z.strictObject({
  id: TxId,
  type: z.literal('stock.reserve'),
  sku: Id,
  quantity: Amount,
  customer: Id,
  ttl: TtlMs,
});

/** Turns a pending reservation into a sale. */
export const stockConfirm = z.strictObject({
  id: TxId,
  type: z.literal('stock.confirm'),
  sku: Id,
  reservation: TxId,
});

/** Returns a pending reservation's units to available. */
export const stockRelease = z.strictObject({
  id: TxId,
  type: z.literal('stock.release'),
  sku: Id,
  reservation: TxId,
});

/** Internal (the sweeper): the reservation `id` has passed its ttl. */
export const stockExpire = z.strictObject({
  id: TxId,
  type: z.literal('stock.expire'),
  sku: Id,
});
