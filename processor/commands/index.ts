// Every message type's command. A type without one is a compile error (the mapped type below).
import { describe, type Message, type MessageTypeName } from '../../common/messages/index.ts';
import { flagKey } from '../../common/keys.ts';
import type { CommandSpec } from './types.ts';
import { seatsCommands } from './seats.ts';
import { stockCommands } from './stock.ts';
import { walletCommands } from './wallet.ts';

const commands: { [K in MessageTypeName]: CommandSpec<Extract<Message, { type: K }>> } = {
  ...walletCommands,
  ...stockCommands,
  ...seatsCommands,
};

export function commandOf(m: Message): CommandSpec {
  return commands[m.type] as unknown as CommandSpec;
}

/** KEYS for the script: the flag key first (includes/tx.lua), then the command's own. */
export function keysOf(m: Message, spec: CommandSpec): string[] {
  return [flagKey(spec.domain, describe(m).entity, m.id, spec.step), ...spec.keys(m)];
}
