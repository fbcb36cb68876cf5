// Internal steps (a transfer's credit, settle and refund; every expire) can never find another payload
// under their flag: no client id can name a step's flag (common/keys.ts), and each step's payload is fixed
// by the step before it (the flag names whatever else could tell two apart: CommandSpec.stepScope). So a
// `conflict` from one is a bug, never an outcome. It is logged as an error and the step counts as not
// done: nothing follows it and a hold stays due, where treating it as settled would lose the money in
// flight or leave a hold pending forever, silently.
import { createLogger } from '../../common/log.ts';
import type { Message } from '../../common/messages/index.ts';
import type { CommandSpec } from './types.ts';

// Errors pass every log level, so a logger of our own says the same as the service's.
const log = createLogger('processor');

export function internalStep(type: string, spec: CommandSpec): CommandSpec {
  const { then, expiring } = spec;
  if (!then) throw new Error(`internal step ${type} must say what follows it`);
  const conflicted = (m: Message, code: string) => {
    if (code !== 'conflict') return false;
    log.error('BUG: an internal step met another payload under its flag; it is left undone', {
      type,
      id: m.id,
      step: spec.step,
    });
    return true;
  };
  return {
    ...spec,
    then: (m, r) => (conflicted(m, r.code) ? { publish: [] } : then(m, r)),
    // Called after then() for the same reply: the error is logged once.
    ...(expiring && { expiring: (m, r, now) => (r.code === 'conflict' ? undefined : expiring(m, r, now)) }),
  };
}
