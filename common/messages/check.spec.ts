// checkMessage against the zod schema it stands in for: on seeded generated messages, valid ones and ones
// mutated in every way a field can be wrong, it accepts exactly what anyMessage accepts, with the same value
// (same fields, same order, defaults filled in), and refuses exactly what anyMessage refuses.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { limits } from '../limits.ts';
import { checkMessage, checkedTypes } from './check.ts';
import { anyMessage, digestOf, messageTypes, type Message, type MessageTypeName } from './index.ts';

/** mulberry32: a small seeded generator, so a failure is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

const idChars = 'ABCXYZabcxyz0189._:@-';
const lengths = (r: Rng, max: number) => r.pick([1, 2, 5, 12, max - 1, max, r.int(1, max)]);
const id = (r: Rng) =>
  Array.from({ length: lengths(r, limits.maxIdLength) }, () => idChars[r.int(0, idChars.length - 1)]).join('');
const producer = (r: Rng) =>
  r.pick(['p', 'acme', '0x', 'a-b']) + (r.chance(0.2) ? 'x'.repeat(limits.maxProducerIdLength - 5) : '');
const txId = (r: Rng) => (r.chance(0.4) ? `${producer(r)}~${id(r)}` : id(r));
const intIn = (r: Rng, lo: number, hi: number) => r.pick([lo, lo + 1, hi - 1, hi, r.int(lo, Math.min(hi, 1e9))]);
const seats = (r: Rng, max: number) => {
  const n = r.chance(0.02) ? max : r.pick([1, 2, Math.min(max, 20), r.int(1, Math.min(max, 50))]);
  return Array.from({ length: n }, (_, i) => `s${i}-${r.int(0, 9)}`);
};

/** A valid value for each field name the schemas use. */
const valid: Record<string, (r: Rng, type: MessageTypeName) => unknown> = {
  id: txId,
  hold: txId,
  reservation: txId,
  account: id,
  from: id,
  to: id,
  sku: id,
  event: id,
  customer: id,
  holder: id,
  amount: (r) => intIn(r, 1, limits.maxAmount),
  quantity: (r) => intIn(r, 1, limits.maxAmount),
  overdraft: (r) => intIn(r, 0, limits.maxAmount),
  perCustomerLimit: (r) => intIn(r, 0, limits.maxAmount),
  ttl: (r) => intIn(r, limits.minTtlMs, limits.maxTtlMs),
  reason: (r) => r.pick(['account_not_found', 'x', 'y'.repeat(64)]),
  seats: (r, type) => seats(r, type === 'seats.define' ? limits.maxSeatsPerEvent : limits.maxSeatsPerHold),
};

const types = Object.keys(messageTypes) as MessageTypeName[];
const shapeOf = (t: MessageTypeName) => (messageTypes[t].schema as unknown as z.ZodObject).shape;

function validMessage(r: Rng, type: MessageTypeName): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const keys = Object.keys(shapeOf(type));
  // Any key order: the parsed value puts them in schema order.
  if (r.chance(0.5)) keys.sort(() => r.next() - 0.5);
  for (const k of keys) {
    if (k === 'type') m.type = type;
    else if (shapeOf(type)[k] instanceof z.ZodOptional || shapeOf(type)[k] instanceof z.ZodDefault) {
      if (r.chance(0.5)) m[k] = valid[k]!(r, type);
    } else m[k] = valid[k]!(r, type);
  }
  if ('from' in m && m.from === m.to) m.to = `${String(m.to)}x`;
  return m;
}

/** Values a field may wrongly hold (and some right ones in the wrong field). */
const odd: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  1.5,
  0.1,
  -0.5,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  1e300,
  -1e300,
  limits.minTtlMs - 1,
  limits.maxTtlMs + 1,
  '',
  '5',
  'a b',
  'a{b}',
  'é',
  'a\n',
  'x'.repeat(limits.maxIdLength),
  'x'.repeat(limits.maxIdLength + 1),
  'x'.repeat(65),
  'p~x',
  'P~x',
  '~x',
  '-p~x',
  'p~~x',
  `${'a'.repeat(limits.maxProducerIdLength)}~x`,
  `${'a'.repeat(limits.maxProducerIdLength + 1)}~x`,
  `p~${'x'.repeat(limits.maxIdLength + 1)}`,
  [],
  ['a'],
  ['a', 'a'],
  ['a', 'b c'],
  [1],
  Array.from({ length: limits.maxSeatsPerHold + 1 }, (_, i) => `s${i}`),
  {},
  { a: 1 },
  ...types,
  'wallet.unknown',
];

/** Numbers at and past each bound the schemas have (ids' lengths are in `odd`). */
const bounds: unknown[] = [
  -1,
  0,
  -0,
  1,
  2,
  limits.minTtlMs - 1,
  limits.minTtlMs,
  limits.maxTtlMs,
  limits.maxTtlMs + 1,
  limits.maxAmount,
  limits.maxAmount + 1,
  -limits.maxAmount,
  0.5,
  1000.5,
  '1',
];

/** The fields of the message's type (optional ones too), or its own keys when its type is none. */
const fieldNames = (m: Record<string, unknown>) =>
  types.includes(m.type as MessageTypeName) ? Object.keys(shapeOf(m.type as MessageTypeName)) : Object.keys(m);

const mutations: Array<[string, (r: Rng, m: Record<string, unknown>) => void]> = [
  ['drop a key', (r, m) => delete m[r.pick(Object.keys(m))]],
  ['add a key', (r, m) => (m[r.pick(['extra', 'ID', 'constructor', 'toString', 'hasOwnProperty', ''])] = r.pick(odd))],
  ['odd value', (r, m) => (m[r.pick(Object.keys(m))] = r.pick(odd))],
  // Every field, also an optional one left out, at and beyond its bounds.
  ['a bound', (r, m) => (m[r.pick(fieldNames(m))] = r.pick(bounds))],
  ['another type', (r, m) => (m.type = r.pick([...types, 'Wallet.debit', 'wallet', '']))],
  ['same from and to', (_r, m) => (m.to = m.from)],
  [
    'a bad seat list',
    (r, m) => {
      const s = Array.isArray(m.seats) ? [...(m.seats as string[])] : ['a'];
      const how = r.int(0, 3);
      if (how === 0) s.push(s[0]!);
      else if (how === 1) s.length = 0;
      else if (how === 2) s[r.int(0, s.length - 1)] = r.pick(odd) as string;
      else while (s.length <= limits.maxSeatsPerHold) s.push(`t${s.length}`);
      m.seats = s;
    },
  ],
];

/** The JSON text of a value, sometimes with an own "__proto__" key or a -0 (what JSON.parse can make). */
function text(r: Rng, m: unknown): string {
  let s = JSON.stringify(m);
  if (s.startsWith('{') && s.length > 2 && r.chance(0.03))
    s = `{"__proto__":${r.pick(['{}', '1', 'null'])},${s.slice(1)}`;
  if (r.chance(0.05)) s = s.replace(/:0([,}])/, ':-0$1');
  return s;
}

/** Whether zod accepts it; throws with the case when checkMessage disagrees. */
function compare(json: unknown): boolean {
  const z = anyMessage.safeParse(json);
  const c = checkMessage(json);
  const same = z.success
    ? c !== undefined && sameValue(c, z.data) && JSON.stringify(c) === JSON.stringify(z.data)
    : c === undefined;
  if (!same) {
    expect({ json, check: c }).toStrictEqual({ json, check: z.success ? z.data : undefined });
    throw new Error(`checkMessage and zod disagree on ${JSON.stringify(json)}`);
  }
  return z.success;
}

/** Deep equality of JSON values, telling -0 from 0 (Object.is), keys in the same order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  return (
    ka.length === kb.length &&
    ka.every((k, i) => k === kb[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

describe('checkMessage', () => {
  it('checks every message type without zod', () => {
    expect([...checkedTypes].sort()).toEqual([...types].sort());
  });

  it(
    'accepts and refuses exactly what the zod schema does, with the same value (seeded, 30,000 cases)',
    { timeout: 60_000 },
    () => {
      const r = rng(20261207);
      const accepted = new Map<string, number>();
      const refused = new Map<string, number>();
      const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
      for (let i = 0; i < 30_000; i++) {
        const type = r.pick(types);
        const m = validMessage(r, type);
        let kind = 'valid';
        for (let n = r.pick([0, 0, 1, 1, 1, 2, 3]); n > 0; n--) {
          const [name, mutate] = r.pick(mutations);
          mutate(r, m);
          kind = name;
        }
        const json: unknown = JSON.parse(text(r, m));
        if (compare(json)) count(accepted, type);
        else count(refused, kind);
      }
      // Every type accepted, every kind of mutation seen refused: the cases reach both sides of each check.
      for (const t of types) expect(accepted.get(t) ?? 0, t).toBeGreaterThan(300);
      for (const [name] of mutations) expect(refused.get(name) ?? 0, name).toBeGreaterThan(50);
    },
  );

  it('agrees with zod on every field of every type set to each odd or bound value, and left out', () => {
    const r = rng(7);
    let n = 0;
    for (const type of types) {
      for (const field of Object.keys(shapeOf(type))) {
        for (const value of [...odd, ...bounds, undefined]) {
          const m = validMessage(r, type);
          if (value === undefined) delete m[field];
          else m[field] = value;
          compare(JSON.parse(JSON.stringify(m)));
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(5000);
  });

  it('refuses what is not an object, as zod does', () => {
    for (const json of [null, 0, 'wallet.debit', [], [{ type: 'wallet.open', id: 'a', account: 'a' }], true])
      expect(compare(json)).toBe(false);
  });

  it('fills in defaults and puts fields in schema order', () => {
    const m = checkMessage({ account: 'a', type: 'wallet.open', id: 'T1' }) as Message;
    expect(digestOf(m)).toBe(digestOf(anyMessage.parse(m)));
    expect(JSON.stringify(m)).toBe('{"id":"T1","type":"wallet.open","account":"a","overdraft":0}');
  });
});
