// Internal steps: their flags are out of every client id's reach, and a conflict from one is a logged
// bug that leaves the step undone (nothing follows, the hold stays due), never a settled step.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { domains } from '../../common/domains.ts';
import { flagKey, stepSeparator } from '../../common/keys.ts';
import { Id } from '../../common/messages/fields.ts';
import { messageTypes, type Message, type MessageTypeName } from '../../common/messages/index.ts';
import { expireCommand } from '../sweeper.ts';
import { commandOf, keysOf } from './index.ts';

const transfer = { id: 'T1', from: 'a', to: 'b', amount: 5 };
const internal: Message[] = [
  { ...transfer, type: 'wallet.transfer.credit' },
  { ...transfer, type: 'wallet.transfer.settle' },
  { ...transfer, type: 'wallet.transfer.refund', reason: 'account_not_found' },
  ...domains.map((d) => expireCommand(d, 'e', 'H')),
];

describe('step flags', () => {
  it('the step separator is no id character', () => {
    expect(Id.safeParse(`T1${stepSeparator}settle`).success).toBe(false);
    expect(Id.safeParse('T1:settle').success).toBe(true);
  });

  it("a client id never names the flag of another transaction's step", () => {
    for (const m of internal) {
      const flag = keysOf(m, commandOf(m))[0]!;
      const [domain, entity] = [commandOf(m).domain, flag.slice(flag.indexOf('{') + 1, flag.indexOf('}'))];
      for (const step of ['debit', 'credit', 'settle', 'refund', 'expire']) {
        expect(flag).not.toBe(flagKey(domain, entity, `${m.id}:${step}`));
        expect(flag).not.toBe(flagKey(domain, entity, `${m.id}:${step}:a`));
      }
      // Inside the entity's hash tag, like every key of the entity.
      expect(flag.startsWith(`${domain}:{${entity}}:`)).toBe(true);
    }
  });

  it("a transfer's credit flag names its source: two sources sending one id to one target never meet", () => {
    const credit = (from: string): Message => ({ ...transfer, from, type: 'wallet.transfer.credit' });
    expect(keysOf(credit('a'), commandOf(credit('a')))[0]).toBe('wallet:{b}:tx:T1/credit/a');
    expect(keysOf(credit('c'), commandOf(credit('c')))[0]).not.toBe(keysOf(credit('a'), commandOf(credit('a')))[0]);
  });
});

describe('a conflict on an internal step', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('every internal type is covered', () => {
    const types = (Object.keys(messageTypes) as MessageTypeName[]).filter((t) => !messageTypes[t].public);
    expect(internal.map((m) => m.type).sort()).toEqual(types.sort());
  });

  it.each(internal.map((m) => [m.type, m] as const))(
    '%s: logged as a bug, nothing follows, the hold stays due',
    (_t, m) => {
      const written: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
        written.push(String(s));
        return true;
      });
      const spec = commandOf(m);
      const r = { code: 'conflict', values: {} };
      const next = spec.then!(m, r);
      expect(next.publish).toEqual([]);
      expect(next.outcome).toBeUndefined();
      expect(spec.expiring?.(m, r, 0)).toBeUndefined();
      expect(written).toHaveLength(1);
      expect(JSON.parse(written[0]!)).toMatchObject({ lvl: 'error', svc: 'processor', type: m.type, id: m.id });
    },
  );

  it('other codes go on as before', () => {
    const settle = internal[1]!;
    expect(commandOf(settle).then!(settle, { code: 'ok', values: { balance: 1 } }).outcome).toMatchObject({
      type: 'wallet.transfer',
      code: 'ok',
    });
    const expire = internal[3]!;
    expect(commandOf(expire).expiring!(expire, { code: 'ok', values: {} }, 0)).toEqual({ settled: 'H' });
  });
});
