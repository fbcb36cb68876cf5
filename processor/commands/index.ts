// Every message type's command. A type without one is a compile error (the mapped type below).
import { entityOf, messageTypes, type Message, type MessageTypeName } from '../../common/messages/index.ts';
import { entriesKey, flagKey } from '../../common/keys.ts';
import { internalStep } from './internal.ts';
import type { CommandSpec } from './types.ts';
import { seatsCommands } from './seats.ts';
import { stockCommands } from './stock.ts';
import { walletCommands } from './wallet.ts';

const specs: { [K in MessageTypeName]: CommandSpec<Extract<Message, { type: K }>> } = {
  ...walletCommands,
  ...stockCommands,
  ...seatsCommands,
};

/** Internal types (follow-ups, expiries) run with the conflict assertion of internal.ts. */
const commands = Object.fromEntries(
  (Object.keys(specs) as MessageTypeName[]).map((t) => {
    const spec = specs[t] as unknown as CommandSpec;
    return [t, messageTypes[t].public ? spec : internalStep(t, spec)];
  }),
) as Record<MessageTypeName, CommandSpec>;

export function commandOf(m: Message): CommandSpec {
  return commands[m.type];
}

/** KEYS for the script: the flag key first, the command's own, the entity's history last (includes/tx.lua). */
export function keysOf(m: Message, spec: CommandSpec): string[] {
  const step = spec.step ? [spec.step, ...(spec.stepScope?.(m) ?? [])] : [];
  const { entity } = entityOf(m);
  return [flagKey(spec.domain, entity, m.id, ...step), ...spec.keys(m), entriesKey(spec.domain, entity)];
}

/** ARGV[4] of every command (includes/tx.lua): the message's offset and what it is, for its history entry. */
export const entryOf = (offset: string, m: Message) => `${offset} ${m.id} ${m.type}`;
