// The registry of message types: the one place that says, for each `type`, its schema, its domain
// (and so its topic), the entity it is keyed by, and whether clients may send it over HTTP.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Domain } from '../config.ts';
import { walletCredit, walletDebit, walletOpen } from './wallet.ts';

interface MessageType<S extends z.ZodType> {
  schema: S;
  domain: Domain;
  /** The entity the message touches: its Kafka key and its Redis hash tag. */
  entity: (m: z.infer<S>) => string;
  /** Internal steps (follow-ups, expiries) are published by the processor only. */
  public: boolean;
}

const define = <S extends z.ZodType>(t: MessageType<S>) => t;

export const messageTypes = {
  'wallet.open': define({ schema: walletOpen, domain: 'wallet', entity: (m) => m.account, public: true }),
  'wallet.credit': define({ schema: walletCredit, domain: 'wallet', entity: (m) => m.account, public: true }),
  'wallet.debit': define({ schema: walletDebit, domain: 'wallet', entity: (m) => m.account, public: true }),
};

export type MessageTypeName = keyof typeof messageTypes;
type Schemas = { [K in MessageTypeName]: (typeof messageTypes)[K]['schema'] };
export type Message = { [K in MessageTypeName]: z.infer<Schemas[K]> }[MessageTypeName];
export type MessageOf<K extends MessageTypeName> = z.infer<Schemas[K]>;

const allSchemas = Object.values(messageTypes).map((t) => t.schema) as unknown as [
  Schemas[MessageTypeName],
  ...Schemas[MessageTypeName][],
];
/** Any message that may travel on a domain topic (public and internal types). */
export const anyMessage = z.discriminatedUnion('type', allSchemas);

export const publicTypes = (Object.keys(messageTypes) as MessageTypeName[]).filter((k) => messageTypes[k].public);

export function isMessageType(t: unknown): t is MessageTypeName {
  return typeof t === 'string' && Object.hasOwn(messageTypes, t);
}

export function describe(m: Message): { domain: Domain; entity: string } {
  const t = messageTypes[m.type] as MessageType<z.ZodType>;
  return { domain: t.domain, entity: t.entity(m) };
}

/**
 * The payload digest stored beside the idempotency flag: the same id with another payload is a conflict.
 * The parsed message has its keys in schema order, so JSON.stringify is canonical.
 */
export function digestOf(m: Message): string {
  return createHash('sha256').update(JSON.stringify(m)).digest('base64url').slice(0, 22);
}

/** The Kafka value of a message: its canonical JSON. */
export function encodeMessage(m: Message): Buffer {
  return Buffer.from(JSON.stringify(m));
}
