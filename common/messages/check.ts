// The message schemas checked without zod, for the processor's hot path, where every message was already
// parsed by ingest-api and zod's general machinery costs more than the JSON decode itself. checkMessage
// accepts exactly what anyMessage accepts and gives the same value (its fields in schema order, defaults
// filled in): check.spec.ts proves it on generated valid and mutated messages. What it refuses goes
// through zod, which names the reason.
//
// Each type's fields come from its zod schema's shape, each field checked by the field schema it is
// (fields.ts). A type with a field or a refinement this module does not know has no fast check: zod
// parses all of its messages, so a schema change can make the check slower, never wrong.
import { z } from 'zod';
import { limits } from '../limits.ts';
import { Amount, Id, NonNegative, TtlMs, TxId, idPattern, reasonLength, txIdPattern } from './fields.ts';
import { messageTypes, type Message, type MessageTypeName } from './index.ts';

type Check = (v: unknown) => boolean;

const isId: Check = (v) =>
  typeof v === 'string' && v.length >= 1 && v.length <= limits.maxIdLength && idPattern.test(v);
const isInt =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** The shared field schemas, by identity. */
const fieldChecks = new Map<z.ZodType, Check>([
  [Id, isId],
  [TxId, (v) => typeof v === 'string' && txIdPattern.test(v)],
  [Amount, isInt(1, limits.maxAmount)],
  [NonNegative, isInt(0, limits.maxAmount)],
  [TtlMs, isInt(limits.minTtlMs, limits.maxTtlMs)],
]);

/** Distinct Ids, 1..max of them (the schemas' seat lists). */
const seatList =
  (max: number): Check =>
  (v) => {
    if (!Array.isArray(v) || v.length < 1 || v.length > max || !v.every(isId)) return false;
    return new Set(v).size === v.length;
  };

/** Fields whose schema is built in place (not a shared one), per type. */
const ownFields: Partial<Record<MessageTypeName, Record<string, Check>>> = {
  'seats.define': { seats: seatList(limits.maxSeatsPerEvent) },
  'seats.hold': { seats: seatList(limits.maxSeatsPerHold) },
  'wallet.transfer.refund': {
    reason: (v) => typeof v === 'string' && v.length >= reasonLength.min && v.length <= reasonLength.max,
  },
};

/** The object-level refinements (zod .refine) of the types that have one. */
const refinements: Partial<Record<MessageTypeName, (m: Record<string, unknown>) => boolean>> = {
  'wallet.transfer': (m) => m.from !== m.to,
};

interface Field {
  name: string;
  check: Check;
  /** Absent: refused (required), left out (optional), or this value (a default). */
  absent: { kind: 'required' } | { kind: 'optional' } | { kind: 'default'; value: unknown };
}

interface TypeCheck {
  fields: Field[];
  byName: Map<string, Field>;
  refine?: (m: Record<string, unknown>) => boolean;
}

function fieldOf(type: MessageTypeName, name: string, schema: z.ZodType): Field | undefined {
  const own = ownFields[type]?.[name];
  if (own) return { name, check: own, absent: { kind: 'required' } };
  if (name === 'type') {
    const literal = schema instanceof z.ZodLiteral && schema.def.values.length === 1 && schema.def.values[0] === type;
    return literal ? { name, check: (v) => v === type, absent: { kind: 'required' } } : undefined;
  }
  const plain = fieldChecks.get(schema);
  if (plain) return { name, check: plain, absent: { kind: 'required' } };
  if (schema instanceof z.ZodOptional) {
    const inner = fieldChecks.get(schema.unwrap() as z.ZodType);
    return inner && { name, check: inner, absent: { kind: 'optional' } };
  }
  if (schema instanceof z.ZodDefault) {
    const inner = fieldChecks.get(schema.unwrap() as z.ZodType);
    return inner && { name, check: inner, absent: { kind: 'default', value: schema.def.defaultValue } };
  }
  return undefined;
}

function typeCheckOf(type: MessageTypeName): TypeCheck | undefined {
  const schema = messageTypes[type].schema as z.ZodType;
  if (!(schema instanceof z.ZodObject) || schema.def.catchall === undefined) return undefined;
  // A strict object: its catchall refuses every key outside the shape.
  if (!(schema.def.catchall instanceof z.ZodNever)) return undefined;
  const checks = schema.def.checks ?? [];
  const refine = refinements[type];
  if (checks.length !== (refine ? 1 : 0)) return undefined;
  const fields: Field[] = [];
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const f = fieldOf(type, name, field);
    if (!f) return undefined;
    fields.push(f);
  }
  return { fields, byName: new Map(fields.map((f) => [f.name, f])), ...(refine && { refine }) };
}

const typeChecks = new Map<string, TypeCheck>();
for (const type of Object.keys(messageTypes) as MessageTypeName[]) {
  const t = typeCheckOf(type);
  if (t) typeChecks.set(type, t);
}

/** The types checked here without zod (the others always go through zod). */
export const checkedTypes = [...typeChecks.keys()];

/**
 * The message a JSON value is, as anyMessage.parse would give it; undefined when it is none (or is of a
 * type this module does not check): then ask zod, for the reason.
 */
export function checkMessage(json: unknown): Message | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const t = typeof o.type === 'string' ? typeChecks.get(o.type) : undefined;
  if (!t) return undefined;
  // Strict: every key is a field (an own "__proto__" from JSON.parse too: it is no Map key).
  for (const key in o) if (!t.byName.has(key)) return undefined;
  const out: Record<string, unknown> = {};
  for (const f of t.fields) {
    const v = Object.hasOwn(o, f.name) ? o[f.name] : undefined;
    if (v === undefined) {
      if (f.absent.kind === 'required') return undefined;
      if (f.absent.kind === 'default') out[f.name] = f.absent.value;
      // An explicit undefined (never in JSON) is left to zod.
      if (Object.hasOwn(o, f.name)) return undefined;
      continue;
    }
    if (!f.check(v)) return undefined;
    out[f.name] = v;
  }
  if (t.refine && !t.refine(out)) return undefined;
  return out as Message;
}
