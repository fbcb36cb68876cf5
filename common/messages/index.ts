// The registry of message types: the one place that says, for each `type`, its schema, its domain
// (and so its topic), the entity it is keyed by, and whether clients may send it over HTTP.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Domain } from '../domains.ts';
import { seatsConfirm, seatsDefine, seatsExpire, seatsHold, seatsRelease } from './seats.ts';
import { stockConfirm, stockExpire, stockRelease, stockReserve, stockRestock, stockSet } from './stock.ts';
import {
  walletCapture,
  walletClose,
  walletCredit,
  walletDebit,
  walletExpire,
  walletHold,
  walletOpen,
  walletTransfer,
  walletTransferCredit,
  walletTransferRefund,
  walletTransferSettle,
  walletVoid,
} from './wallet.ts';

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
  'wallet.transfer': define({ schema: walletTransfer, domain: 'wallet', entity: (m) => m.from, public: true }),
  'wallet.transfer.credit': define({
    schema: walletTransferCredit,
    domain: 'wallet',
    entity: (m) => m.to,
    public: false,
  }),
  'wallet.transfer.settle': define({
    schema: walletTransferSettle,
    domain: 'wallet',
    entity: (m) => m.from,
    public: false,
  }),
  'wallet.transfer.refund': define({
    schema: walletTransferRefund,
    domain: 'wallet',
    entity: (m) => m.from,
    public: false,
  }),
  'wallet.hold': define({ schema: walletHold, domain: 'wallet', entity: (m) => m.account, public: true }),
  'wallet.capture': define({ schema: walletCapture, domain: 'wallet', entity: (m) => m.account, public: true }),
  'wallet.void': define({ schema: walletVoid, domain: 'wallet', entity: (m) => m.account, public: true }),
  'wallet.expire': define({ schema: walletExpire, domain: 'wallet', entity: (m) => m.account, public: false }),
  'wallet.close': define({ schema: walletClose, domain: 'wallet', entity: (m) => m.account, public: true }),

  'stock.set': define({ schema: stockSet, domain: 'stock', entity: (m) => m.sku, public: true }),
  'stock.restock': define({ schema: stockRestock, domain: 'stock', entity: (m) => m.sku, public: true }),
  'stock.reserve': define({ schema: stockReserve, domain: 'stock', entity: (m) => m.sku, public: true }),
  'stock.confirm': define({ schema: stockConfirm, domain: 'stock', entity: (m) => m.sku, public: true }),
  'stock.release': define({ schema: stockRelease, domain: 'stock', entity: (m) => m.sku, public: true }),
  'stock.expire': define({ schema: stockExpire, domain: 'stock', entity: (m) => m.sku, public: false }),

  'seats.define': define({ schema: seatsDefine, domain: 'seats', entity: (m) => m.event, public: true }),
  'seats.hold': define({ schema: seatsHold, domain: 'seats', entity: (m) => m.event, public: true }),
  'seats.confirm': define({ schema: seatsConfirm, domain: 'seats', entity: (m) => m.event, public: true }),
  'seats.release': define({ schema: seatsRelease, domain: 'seats', entity: (m) => m.event, public: true }),
  'seats.expire': define({ schema: seatsExpire, domain: 'seats', entity: (m) => m.event, public: false }),
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

/** The message's domain and the entity it is keyed by. */
export function entityOf(m: Message): { domain: Domain; entity: string } {
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
