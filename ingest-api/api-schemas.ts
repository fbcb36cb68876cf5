// The shapes of ingest-api's answers, as zod schemas: the handlers' bodies are described here once, and
// openapi.ts turns them (with the message schemas of common/messages) into the OpenAPI document.
import { z } from 'zod';
import { limits } from '../common/limits.ts';
import { Id, TxId } from '../common/messages/fields.ts';
import { errorStatuses } from './error-statuses.ts';

const Int = z.int();
const Time = z.int().min(0).describe('epoch milliseconds');

export const ErrorBody = z
  .object({
    code: z.enum(Object.keys(errorStatuses) as [string, ...string[]]),
    message: z.string(),
    field: z.string().optional().describe('the path of the offending field'),
    id: Id.optional().describe("503 from publishing: the transaction's id, to retry with"),
    published: z
      .enum(['no', 'unknown'])
      .optional()
      .describe('503 from publishing: whether the transaction may be in the log'),
  })
  .meta({ id: 'Error' });

export const AcceptedBody = z
  .strictObject({
    id: Id,
    status: z.literal('accepted'),
    idempotency: z.literal('unchecked').optional().describe('Redis did not answer the idempotency check'),
  })
  .meta({ id: 'Accepted' });

const Conflicts = z
  .array(z.strictObject({ type: z.string(), ingestedAt: Time }))
  .describe('payloads sent under this id and dropped (another payload was applied)');

/** Who sent it: the producer of the API key (absent with authentication off). */
const Producer = z.string().optional().describe('the producer that sent it');

export const PendingTransaction = z
  .strictObject({
    id: TxId.describe(
      "as the reader sent it; another producer's (to a key that reads everything) as stored, <producer>~<id>",
    ),
    producer: Producer,
    type: z.string().optional(),
    status: z.literal('pending'),
    step: z.string().optional().describe('the step under way of a multi-step transaction'),
    conflicts: Conflicts.optional(),
  })
  .meta({ id: 'PendingTransaction' });

export const DecidedTransaction = z
  .strictObject({
    id: TxId,
    producer: Producer,
    type: z.string(),
    status: z.enum(['applied', 'rejected']),
    code: z.string().describe('ok, or the rejection code'),
    result: z.record(z.string(), Int),
    ingestedAt: Time,
    appliedAt: Time,
    conflicts: Conflicts.optional(),
  })
  .meta({ id: 'DecidedTransaction' });

export const TransactionBody = z.union([PendingTransaction, DecidedTransaction]).meta({ id: 'Transaction' });

/** Items are checked one by one: each, even one that is no object, gets its own result (refused 400). */
export const BatchRequest = z
  .strictObject({
    transactions: z
      .array(z.unknown().describe('a transaction, as the body of POST /v1/transactions'))
      .min(1)
      .max(limits.maxBatchItems),
  })
  .meta({ id: 'BatchRequest' });

export const BatchResults = z
  .strictObject({
    results: z.array(
      z.union([
        z.strictObject({
          index: Int,
          id: Id,
          status: z.literal('accepted'),
          idempotency: z.literal('unchecked').optional(),
        }),
        z.strictObject({ index: Int, status: z.literal('refused'), error: ErrorBody.extend({ status: Int }) }),
      ]),
    ),
  })
  .meta({ id: 'BatchResults' });

export const AccountBody = z
  .strictObject({
    account: Id,
    status: z.enum(['open', 'closed']),
    balance: Int,
    held: Int,
    outgoing: Int,
    overdraft: Int,
    available: Int,
  })
  .meta({ id: 'Account' });

/** A wallet hold, stock reservation or seat hold: its id under its own name, its state and its numbers. */
export const HoldBody = z
  .object({
    state: z.enum(['pending', 'captured', 'confirmed', 'voided', 'released', 'expired']),
    expiresAt: Time,
    holder: Id.optional(),
    customer: Id.optional(),
    seats: z.array(Id).optional(),
  })
  .catchall(z.union([Int, Id]))
  .meta({ id: 'Hold' });

export const StockBody = z
  .strictObject({
    sku: Id,
    stocked: Int,
    available: Int,
    reserved: Int,
    sold: Int,
    perCustomerLimit: Int.nullable(),
  })
  .meta({ id: 'Stock' });

export const SeatsBody = z
  .strictObject({
    event: Id,
    free: Int,
    held: Int,
    sold: Int,
    seats: z.array(z.strictObject({ seat: Id, state: z.enum(['free', 'held', 'sold']), hold: TxId.optional() })),
  })
  .meta({ id: 'Seats' });

const EntryHead = {
  entry: z
    .string()
    .regex(/^\d+-\d+$/)
    .describe('<message time>-<offset>: from the log, so a replay writes the same'),
  id: Id.describe('the transaction'),
  type: z.string(),
  at: Time,
};
const nextCursor = z
  .string()
  .regex(/^\d+$/)
  .nullable()
  .describe('the cursor of the next (older) page; null on the last');

export const AccountEntries = z
  .strictObject({
    entries: z.array(
      z.strictObject({
        ...EntryHead,
        amount: Int.describe('how the balance moved: + in, - out, 0 for a hold or a settle'),
        balance: Int,
        available: Int,
      }),
    ),
    next: nextCursor,
  })
  .meta({ id: 'AccountEntries' });

export const StockEntries = z
  .strictObject({
    entries: z.array(
      z.strictObject({
        ...EntryHead,
        available: Int,
        reserved: Int,
        sold: Int,
        change: z.strictObject({ available: Int, reserved: Int, sold: Int }),
      }),
    ),
    next: nextCursor,
  })
  .meta({ id: 'StockEntries' });

export const SeatEntries = z
  .strictObject({
    entries: z.array(
      z.union([
        z.strictObject({ ...EntryHead, change: z.enum(['held', 'sold', 'free']), seats: z.array(Id) }),
        z.strictObject({ ...EntryHead, change: z.literal('defined'), seats: Int.describe('seats in the map') }),
      ]),
    ),
    next: nextCursor,
  })
  .meta({ id: 'SeatEntries' });

export const HealthBody = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });
export const ReadyBody = z
  .strictObject({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.boolean()),
  })
  .meta({ id: 'Readiness' });
