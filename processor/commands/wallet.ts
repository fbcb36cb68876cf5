import { entityKey } from '../../common/keys.ts';
import type { MessageOf } from '../../common/messages/index.ts';
import type { CommandSpec } from './types.ts';

const account = (m: { account: string }) => [entityKey('wallet', m.account)];
const balances = ['balance', 'available'] as const;

export const walletCommands = {
  'wallet.open': {
    domain: 'wallet', script: 'wallet.open', keys: account, result: balances,
    args: (m) => [m.overdraft],
  } satisfies CommandSpec<MessageOf<'wallet.open'>>,
  'wallet.credit': {
    domain: 'wallet', script: 'wallet.credit', keys: account, result: balances,
    args: (m) => [m.amount],
  } satisfies CommandSpec<MessageOf<'wallet.credit'>>,
  'wallet.debit': {
    domain: 'wallet', script: 'wallet.debit', keys: account, result: balances,
    args: (m) => [m.amount],
  } satisfies CommandSpec<MessageOf<'wallet.debit'>>,
};
