// A producer's transactions live in its own namespace: the stored id is `<producer>~<client id>`
// (common/keys.ts), and so is every field naming a transaction (a hold, a reservation), since a hold's id is
// its creating transaction's. Two producers may use the same client id; neither can replay, read or resolve
// the other's. Applied once, at ingest, after validation: the processor and the scripts see one more id.
import { clientIdOf, scopedId } from '../common/keys.ts';
import { transactionRefFields } from '../common/messages/fields.ts';
import type { Message } from '../common/messages/index.ts';

/** The message as stored: its id and references in the producer's namespace (unchanged without a producer). */
export function inNamespace(m: Message, producer: string | undefined): Message {
  if (producer === undefined) return m;
  const out: Record<string, unknown> = { ...m, id: scopedId(producer, m.id) };
  for (const f of transactionRefFields) {
    const v = out[f];
    if (typeof v === 'string') out[f] = scopedId(producer, v);
  }
  return out as Message;
}

/** A stored id as the reader should see it: its own without the namespace, another producer's as stored. */
export function shownId(id: string, producer: string | undefined): string {
  return producer !== undefined && id.startsWith(scopedId(producer, '')) ? clientIdOf(id) : id;
}
