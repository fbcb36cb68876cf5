// wallet.* message types: one strict zod schema each; TypeScript types are inferred from them.
import { z } from 'zod';
import { Amount, Id, NonNegative } from './fields.ts';

export const walletOpen = z.strictObject({
  id: Id,
  type: z.literal('wallet.open'),
  account: Id,
  /** How far below zero the balance may go. */
  overdraft: NonNegative.default(0),
});

export const walletCredit = z.strictObject({
  id: Id,
  type: z.literal('wallet.credit'),
  account: Id,
  amount: Amount,
});

export const walletDebit = z.strictObject({
  id: Id,
  type: z.literal('wallet.debit'),
  account: Id,
  amount: Amount,
});

export type WalletOpen = z.infer<typeof walletOpen>;
export type WalletCredit = z.infer<typeof walletCredit>;
export type WalletDebit = z.infer<typeof walletDebit>;
