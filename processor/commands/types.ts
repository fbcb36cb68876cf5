// How a message type becomes one Lua command, and what follows once it has run.
import type { Domain } from '../../common/domains.ts';
import type { Message } from '../../common/messages/index.ts';

export interface StepResult {
  code: string;
  /** The script's integers, named by the command's `result` list. */
  values: Record<string, number>;
}

export interface Next {
  /** Messages to publish (follow-up steps), each keyed by its own entity. */
  publish: Message[];
  /**
   * The transaction's outcome when this step ends it; undefined while further steps are under way
   * (its status stays pending). `type` is the transaction's own type when a step differs from it.
   */
  outcome?: { type: string; code: string; result: Record<string, number> };
  /** A housekeeping step (an expiry) that is no transaction of its own: no status record, no result. */
  silent?: boolean;
}

/** How a step changes the sweeper's index of pending holds (processor/sweeper.ts). */
export type ExpiringChange = { opened: string; expiresAt: number } | { settled: string };

export interface CommandSpec<M extends Message = Message> {
  domain: Domain;
  /** The Lua command name (lua/<script>-<numberOfKeys>.lua). */
  script: string;
  /** The step name for the idempotency flag when a transaction has several steps. */
  step?: string;
  /**
   * More of the flag's name, for a step whose id and entity alone could belong to two transactions (a
   * transfer's credit: two sources may send the same id to one target). With it, each flag has one payload.
   */
  stepScope?(m: M): string[];
  /** The transaction a step belongs to, for its pending status record (by default the message's type). */
  transaction?: string;
  /** Keys after the flag key (which the processor builds). */
  keys(m: M): string[];
  /** ARGV after the common three (digest, retention, now). */
  args(m: M): (string | number)[];
  /** Names of the integers the script returns after { code, fresh }. */
  result: readonly string[];
  /** Multi-step types say what follows; the default ends the transaction with this step's outcome. */
  then?(m: M, r: StepResult): Next;
  /** Steps that open or end a hold say which; `now` is the message's time. */
  expiring?(m: M, r: StepResult, now: number): ExpiringChange | undefined;
}
