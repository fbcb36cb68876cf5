import { entityKey, holdKey } from '../../common/keys.ts';
import type { MessageOf } from '../../common/messages/index.ts';
import { endsHold, expireStep, opensHold } from './holds.ts';
import type { CommandSpec, Next, StepResult } from './types.ts';

const account = (m: { account: string }) => [entityKey('wallet', m.account)];
const accountHold = (m: { account: string }, hold: string) => [
  entityKey('wallet', m.account),
  holdKey('wallet', m.account, hold),
];
const balances = ['balance', 'available'] as const;

type Transfer = Pick<MessageOf<'wallet.transfer'>, 'id' | 'from' | 'to' | 'amount'>;
/** The next step of a transfer: the same id, from, to and amount. */
const transferStep = (m: Transfer, type: 'wallet.transfer.credit' | 'wallet.transfer.settle') => ({
  id: m.id,
  type,
  from: m.from,
  to: m.to,
  amount: m.amount,
});
/** The transfer's outcome, recorded by its last step. */
const transferDone = (code: string, r: StepResult): Next => ({
  publish: [],
  outcome: { type: 'wallet.transfer', code, result: r.values },
});

export const walletCommands = {
  'wallet.open': {
    domain: 'wallet',
    script: 'wallet.open',
    keys: account,
    result: balances,
    args: (m) => [m.overdraft],
  } satisfies CommandSpec<MessageOf<'wallet.open'>>,
  'wallet.credit': {
    domain: 'wallet',
    script: 'wallet.credit',
    keys: account,
    result: balances,
    args: (m) => [m.amount],
  } satisfies CommandSpec<MessageOf<'wallet.credit'>>,
  'wallet.debit': {
    domain: 'wallet',
    script: 'wallet.debit',
    keys: account,
    result: balances,
    args: (m) => [m.amount],
  } satisfies CommandSpec<MessageOf<'wallet.debit'>>,

  // A transfer is a chain of single-account steps through Kafka, each flagged by (id, step):
  // debit `from` (the amount becomes outgoing) -> credit `to` -> settle `from` (outgoing cleared), or,
  // when the credit cannot apply, -> refund `from` (outgoing back into the balance).
  'wallet.transfer': {
    domain: 'wallet',
    script: 'wallet.transfer',
    step: 'debit',
    result: balances,
    keys: (m) => [entityKey('wallet', m.from)],
    args: (m) => [m.amount],
    then: (m, r) =>
      r.code === 'ok' ? { publish: [transferStep(m, 'wallet.transfer.credit')] } : transferDone(r.code, r),
  } satisfies CommandSpec<MessageOf<'wallet.transfer'>>,
  'wallet.transfer.credit': {
    domain: 'wallet',
    script: 'wallet.credit',
    step: 'credit',
    transaction: 'wallet.transfer',
    result: balances,
    stepScope: (m) => [m.from],
    keys: (m) => [entityKey('wallet', m.to)],
    args: (m) => [m.amount],
    then: (m, r) => ({
      publish: [
        r.code === 'ok'
          ? transferStep(m, 'wallet.transfer.settle')
          : { id: m.id, type: 'wallet.transfer.refund', from: m.from, to: m.to, amount: m.amount, reason: r.code },
      ],
    }),
  } satisfies CommandSpec<MessageOf<'wallet.transfer.credit'>>,
  'wallet.transfer.settle': {
    domain: 'wallet',
    script: 'wallet.transfer.settle',
    step: 'settle',
    transaction: 'wallet.transfer',
    result: balances,
    keys: (m) => [entityKey('wallet', m.from)],
    args: (m) => [m.amount],
    then: (_m, r) => transferDone(r.code, r),
  } satisfies CommandSpec<MessageOf<'wallet.transfer.settle'>>,
  'wallet.transfer.refund': {
    domain: 'wallet',
    script: 'wallet.transfer.refund',
    step: 'refund',
    transaction: 'wallet.transfer',
    result: balances,
    keys: (m) => [entityKey('wallet', m.from)],
    args: (m) => [m.amount],
    // The money is back; the transfer is rejected with the reason its credit could not apply.
    then: (m, r) => transferDone(m.reason, r),
  } satisfies CommandSpec<MessageOf<'wallet.transfer.refund'>>,

  'wallet.hold': {
    domain: 'wallet',
    script: 'wallet.hold',
    result: balances,
    keys: (m) => accountHold(m, m.id),
    args: (m) => [m.amount, m.ttl],
    expiring: opensHold,
  } satisfies CommandSpec<MessageOf<'wallet.hold'>>,
  'wallet.capture': {
    domain: 'wallet',
    script: 'wallet.capture',
    result: [...balances, 'captured'],
    keys: (m) => accountHold(m, m.hold),
    args: (m) => [m.amount ?? 0],
    expiring: endsHold('hold', (m: MessageOf<'wallet.capture'>) => m.hold),
  } satisfies CommandSpec<MessageOf<'wallet.capture'>>,
  'wallet.void': {
    domain: 'wallet',
    script: 'wallet.void',
    result: balances,
    keys: (m) => accountHold(m, m.hold),
    args: () => [],
    expiring: endsHold('hold', (m: MessageOf<'wallet.void'>) => m.hold),
  } satisfies CommandSpec<MessageOf<'wallet.void'>>,
  'wallet.expire': {
    domain: 'wallet',
    script: 'wallet.expire',
    result: balances,
    ...expireStep,
    keys: (m) => accountHold(m, m.id),
    args: () => [],
  } satisfies CommandSpec<MessageOf<'wallet.expire'>>,
  'wallet.close': {
    domain: 'wallet',
    script: 'wallet.close',
    keys: account,
    result: balances,
    args: () => [],
  } satisfies CommandSpec<MessageOf<'wallet.close'>>,
};
