// wallet.* message types: one strict zod schema each; TypeScript types are inferred from them.
import { z } from 'zod';
import { Amount, Id, TxId, NonNegative, TtlMs } from './fields.ts';

export const walletOpen = z.strictObject({
  id: TxId,
  type: z.literal('wallet.open'),
  account: Id,
  /** How far below zero the balance may go. */
  overdraft: NonNegative.default(0),
});

export const walletCredit = z.strictObject({
  id: TxId,
  type: z.literal('wallet.credit'),
  account: Id,
  amount: Amount,
});

export const walletDebit = z.strictObject({
  id: TxId,
  type: z.literal('wallet.debit'),
  account: Id,
  amount: Amount,
});

/** Moves an amount between two accounts: debit `from`, then credit `to` (or refund `from`), through Kafka. */
export const walletTransfer = z
  .strictObject({
    id: TxId,
    type: z.literal('wallet.transfer'),
    from: Id,
    to: Id,
    amount: Amount,
  })
  .refine((m) => m.from !== m.to, {
    path: ['to'],
    message: 'must differ from from',
    params: { code: 'self_transfer' },
  });

/** The steps after a transfer's debit: internal, published by the processor with the transfer's id. */
const transferStep = <T extends string>(type: T) =>
  z.strictObject({ id: TxId, type: z.literal(type), from: Id, to: Id, amount: Amount });
/** Credit the target (keyed by `to`). */
export const walletTransferCredit = transferStep('wallet.transfer.credit');
/** The credit applied: the money has left `from` for good (keyed by `from`). */
export const walletTransferSettle = transferStep('wallet.transfer.settle');
/** The credit could not apply: give the money back to `from`; `reason` is the credit's rejection code. */
export const walletTransferRefund = transferStep('wallet.transfer.refund').extend({
  reason: z.string().min(1).max(64),
});

/** Reserves funds (available drops, balance does not) until captured, voided or expired. Its id is the hold's. */
export const walletHold = z.strictObject({
  id: TxId,
  type: z.literal('wallet.hold'),
  account: Id,
  amount: Amount,
  ttl: TtlMs,
});

/** Posts a pending hold: takes `amount` (the whole hold when omitted) and releases the rest. */
export const walletCapture = z.strictObject({
  id: TxId,
  type: z.literal('wallet.capture'),
  account: Id,
  hold: TxId,
  amount: Amount.optional(),
});

/** Releases a pending hold. */
export const walletVoid = z.strictObject({
  id: TxId,
  type: z.literal('wallet.void'),
  account: Id,
  hold: TxId,
});

/** Internal (the sweeper): the hold `id` has passed its ttl. */
export const walletExpire = z.strictObject({
  id: TxId,
  type: z.literal('wallet.expire'),
  account: Id,
});

/** No further debits or credits; refused while the account holds funds, holds or a transfer in flight. */
export const walletClose = z.strictObject({
  id: TxId,
  type: z.literal('wallet.close'),
  account: Id,
});
