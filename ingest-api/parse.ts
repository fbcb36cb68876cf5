// A request body (+ Idempotency-Key header) -> a validated message, or the ApiError saying why not.
import { randomUUID } from 'node:crypto';
import { limits } from '../common/limits.ts';
import { Id, transactionRefFields } from '../common/messages/fields.ts';
import { isMessageType, messageTypes, publicTypes, type Message } from '../common/messages/index.ts';
import { issueError } from './body.ts';
import { ApiError, fromZod } from './errors.ts';
import type { JsonIssue } from './ijson.ts';

/** The transaction id: body `id` or the Idempotency-Key header (the same value when both), else a new one. */
function resolveId(body: Record<string, unknown>, header: string | undefined, prefix: string): string {
  if (header !== undefined) {
    const h = Id.safeParse(header);
    if (!h.success) throw fromZod(h.error, header, 'Idempotency-Key');
  }
  if (body.id !== undefined) {
    const b = Id.safeParse(body.id);
    if (!b.success) throw fromZod(b.error, body.id, [prefix, 'id'].filter(Boolean).join('.'));
    if (header !== undefined && header !== b.data) {
      throw new ApiError(
        400,
        'id_mismatch',
        'body id and Idempotency-Key header differ',
        [prefix, 'id'].filter(Boolean).join('.'),
      );
    }
    return b.data;
  }
  return header ?? randomUUID();
}

export function parseTransaction(body: unknown, idempotencyKey?: string, prefix = ''): Message {
  const at = (f: string) => [prefix, f].filter(Boolean).join('.');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'not_an_object', 'a transaction is a JSON object', prefix || undefined);
  }
  const fields = body as Record<string, unknown>;
  if (fields.type === undefined) throw new ApiError(400, 'missing_field', `${at('type')} is required`, at('type'));
  if (!isMessageType(fields.type) || !messageTypes[fields.type].public) {
    throw new ApiError(400, 'unknown_type', `${at('type')} must be one of ${publicTypes.join(', ')}`, at('type'));
  }
  const id = resolveId(fields, idempotencyKey, prefix);
  // A hold or reservation names a transaction as its client knows it: never in a producer's namespace (`~`).
  for (const f of transactionRefFields) {
    const r = typeof fields[f] === 'string' ? Id.safeParse(fields[f]) : undefined;
    if (r && !r.success) throw fromZod(r.error, fields[f], at(f));
  }
  const candidate = { ...fields, id };
  const parsed = messageTypes[fields.type].schema.safeParse(candidate);
  if (!parsed.success) throw fromZod(parsed.error, candidate, prefix);
  return parsed.data as Message;
}

/**
 * A batch body: `{ "transactions": [ ... ] }`, 1..maxBatchItems items (each parsed on its own later, each
 * refused on its own for an I-JSON issue inside it). An issue outside the items refuses the batch.
 */
export function parseBatch(body: unknown, issues: JsonIssue[] = []): unknown[] {
  const outside = issues.find((i) => i.path.length < 2);
  if (outside) throw issueError(outside);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'not_an_object', 'a batch is a JSON object {"transactions": [...]}');
  }
  const { transactions, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new ApiError(400, 'unknown_field', `unknown field ${extra}`, extra);
  if (transactions === undefined) throw new ApiError(400, 'missing_field', 'transactions is required', 'transactions');
  if (!Array.isArray(transactions))
    throw new ApiError(400, 'wrong_type', 'transactions must be an array', 'transactions');
  if (transactions.length === 0)
    throw new ApiError(400, 'out_of_range', 'transactions must list at least one transaction', 'transactions');
  if (transactions.length > limits.maxBatchItems) {
    throw new ApiError(
      413,
      'payload_too_large',
      `transactions must list at most ${limits.maxBatchItems} transactions`,
      'transactions',
    );
  }
  return transactions;
}
