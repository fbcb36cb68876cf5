// The two-phase hold shape (lua/includes/hold.lua) as the processor sees it: which steps open a hold,
// which end one, and the expiry step each domain shares. Feeds the sweeper's index (processor/sweeper.ts).
import type { ExpiringChange, Next, StepResult } from './types.ts';

/** A hold, reservation or seat hold opened: due for expiry at the message's time + ttl. */
export const opensHold = (m: { id: string; ttl: number }, r: StepResult, now: number): ExpiringChange | undefined =>
  r.code === 'ok' ? { opened: m.id, expiresAt: now + m.ttl } : undefined;

/**
 * Capture, void, confirm, release: once the code says the hold is no longer pending (ok, or
 * <noun>_captured/_voided/_confirmed/_released/_expired/_not_found), it leaves the index. Other
 * rejections (amount_exceeds_hold, conflict) leave the hold pending, and due.
 */
export const endsHold =
  <M>(noun: string, hold: (m: M) => string) =>
  (m: M, r: StepResult): ExpiringChange | undefined =>
    r.code === 'ok' || r.code.startsWith(`${noun}_`) ? { settled: hold(m) } : undefined;

/** The expire step of every domain: flagged on (hold id, 'expire'); leaves no status record. */
export const expireStep = {
  step: 'expire',
  then: (): Next => ({ publish: [], silent: true }),
  /**
   * not_due keeps the entry: a later sweep publishes again (it cannot happen with the sweeper's own clock).
   * A conflict keeps it too (internal.ts): it is a bug, never a settled hold.
   */
  expiring: (m: { id: string }, r: StepResult): ExpiringChange | undefined =>
    r.code === 'not_due' ? undefined : { settled: m.id },
};
