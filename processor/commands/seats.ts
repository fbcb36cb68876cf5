import { entityKey, holdKey } from '../../common/keys.ts';
import type { MessageOf } from '../../common/messages/index.ts';
import { endsHold, expireStep, opensHold } from './holds.ts';
import type { CommandSpec } from './types.ts';

/** The keys of every script on a hold: seat map, hold hash. */
const eventHold = (m: { event: string }, hold: string) => [
  entityKey('seats', m.event),
  holdKey('seats', m.event, hold),
];
const counts = ['seats'] as const;
const endsSeatHold = endsHold('hold', (m: { hold: string }) => m.hold);

export const seatsCommands = {
  'seats.define': {
    domain: 'seats',
    script: 'seats.define',
    result: counts,
    keys: (m) => [entityKey('seats', m.event)],
    args: (m) => m.seats,
  } satisfies CommandSpec<MessageOf<'seats.define'>>,
  'seats.hold': {
    domain: 'seats',
    script: 'seats.hold',
    result: counts,
    keys: (m) => eventHold(m, m.id),
    args: (m) => [m.id, m.holder, m.ttl, ...m.seats],
    expiring: opensHold,
  } satisfies CommandSpec<MessageOf<'seats.hold'>>,
  'seats.confirm': {
    domain: 'seats',
    script: 'seats.confirm',
    result: counts,
    keys: (m) => eventHold(m, m.hold),
    args: (m) => [m.hold],
    expiring: endsSeatHold,
  } satisfies CommandSpec<MessageOf<'seats.confirm'>>,
  'seats.release': {
    domain: 'seats',
    script: 'seats.release',
    result: counts,
    keys: (m) => eventHold(m, m.hold),
    args: (m) => [m.hold],
    expiring: endsSeatHold,
  } satisfies CommandSpec<MessageOf<'seats.release'>>,
  'seats.expire': {
    domain: 'seats',
    script: 'seats.expire',
    result: counts,
    ...expireStep,
    keys: (m) => eventHold(m, m.id),
    args: (m) => [m.id],
  } satisfies CommandSpec<MessageOf<'seats.expire'>>,
};
