// Accepting a transaction: claim its id, publish it keyed by its entity, mark it accepted.
import type { ChainableCommander } from 'ioredis';
import type { RedisClient as Redis } from '../common/redis.ts';
import type { Topics } from '../common/config.ts';
import { limits } from '../common/limits.ts';
import type { Logger } from '../common/log.ts';
import { digestOf, encodeMessage, entityOf, type Message } from '../common/messages/index.ts';
import { ingestAccepted } from '../common/metrics.ts';
import { sharedPipeline, type Reply } from '../common/redis-batch.ts';
import { dropIfTimedOut } from '../common/redis.ts';
import { callScript } from '../lua/scripts.ts';
import { ApiError } from './errors.ts';
import type { Publisher } from './publisher.ts';
import { checkReferences } from './references.ts';
import { clientIdOf, producerHeader, statusKey } from '../common/keys.ts';
import { claimAccepted, statusField } from '../common/status.ts';

export interface AcceptDeps {
  redis: Redis;
  publisher: Publisher;
  topics: Topics;
  /** How long the claim and the status record live (TXPIPE_IDEMPOTENCY_WINDOW_MS). */
  idempotencyWindowMs: number;
  log: Logger;
}

/**
 * `unchecked`: Redis did not answer the idempotency check, so the id was published without it. It is still
 * applied once; but if it was used before with another payload, this one is dropped as a conflict, which
 * GET /v1/transactions/:id then shows.
 */
export type Accepted = { id: string; status: 'accepted'; replayed: boolean; unchecked?: true };

/** The 202 body (and a batch item's result): the id, and the warning when idempotency went unchecked. */
export const acceptedBody = (a: Accepted) => ({
  id: clientIdOf(a.id),
  status: a.status,
  ...(a.unchecked && { idempotency: 'unchecked' as const }),
});

/**
 * Checks what each message names (references.ts), then accepts those that pass: one answer per item, in
 * order. `prefix` is the item's field path in a batch ('' for a single transaction).
 */
export async function acceptAll(
  deps: AcceptDeps,
  items: Array<{ message: Message; prefix: string; producer?: string }>,
): Promise<Array<Accepted | ApiError>> {
  const values = items.map((it) => encodeMessage(it.message));
  const references = await checkReferences(deps.redis, items);
  const refused = items.map((it, i) => tooLarge(values[i]!, it.prefix) ?? references[i]);
  const valid = items.flatMap((it, i) =>
    refused[i] ? [] : [{ message: it.message, value: values[i]!, producer: it.producer }],
  );
  const accepted = valid.length ? await claimAndPublish(deps, valid) : [];
  let next = 0;
  return refused.map((e) => e ?? accepted[next++]!);
}

/** A transaction whose record could never be published (the broker's limit) is refused before it is claimed. */
function tooLarge(value: Buffer, prefix: string): ApiError | undefined {
  if (value.length <= limits.maxTransactionBytes) return undefined;
  return new ApiError(
    413,
    'transaction_too_large',
    `the transaction is ${value.length} bytes encoded, over the ${limits.maxTransactionBytes} a Kafka record may carry`,
    prefix || undefined,
  );
}

/** Claims each id, publishes those newly claimed (or unchecked), marks them accepted. */
async function claimAndPublish(
  deps: AcceptDeps,
  items: Array<{ message: Message; value: Buffer; producer?: string }>,
): Promise<Array<Accepted | ApiError>> {
  const messages = items.map((it) => it.message);
  const now = Date.now();
  const digests = messages.map(digestOf);
  const claims = await claimAll(deps, messages, digests, now);

  const toPublish: number[] = [];
  const results: Array<Accepted | ApiError | undefined> = messages.map((m, i) => {
    switch (claims[i]) {
      case 'accepted':
        return { id: m.id, status: 'accepted', replayed: true };
      case 'inflight':
        return new ApiError(
          409,
          'idempotency_in_flight',
          `transaction ${clientIdOf(m.id)} is being accepted by another request`,
          'id',
        );
      case 'mismatch':
        return new ApiError(
          422,
          'idempotency_key_mismatch',
          `id ${clientIdOf(m.id)} was already used with a different payload`,
          'id',
        );
      default:
        toPublish.push(i);
        return undefined;
    }
  });

  await Promise.all(
    toPublish.map(async (i) => {
      const m = messages[i]!;
      const claimed = claims[i] === 'claimed';
      const { domain, entity } = entityOf(m);
      try {
        // Who sent it, for whoever reads the topic and for the processor's records.
        const producer = items[i]!.producer;
        const record = {
          key: entity,
          value: items[i]!.value,
          timestamp: String(now),
          ...(producer !== undefined && { headers: { [producerHeader]: producer } }),
        };
        await deps.publisher.publish([{ topic: deps.topics[domain], record }]);
        ingestAccepted.inc({ type: m.type });
        results[i] = {
          id: m.id,
          status: 'accepted',
          replayed: false,
          ...(claims[i] === 'unchecked' && { unchecked: true as const }),
        };
        if (claimed)
          await coalesced(deps.redis, (p) => p.hset(statusKey(m.id), statusField.claim, claimAccepted)).catch(
            () => undefined,
          );
      } catch (e) {
        // Every refusal names the transaction: a client that sent no id retries with this one.
        const refusal =
          e instanceof ApiError
            ? e
            : new ApiError(503, 'kafka_unavailable', (e as Error).message, undefined, 2, { published: 'unknown' });
        results[i] = refusal.forTransaction(clientIdOf(m.id));
        // Free the id, keeping its digest: the retry with this id (and payload) is published again. If the
        // first did land, the log holds it twice and the processor's flag answers the second with the first outcome.
        if (claimed)
          await coalesced(deps.redis, (p) => p.hdel(statusKey(m.id), statusField.claim)).catch(() => undefined);
      }
    }),
  );
  return results as Array<Accepted | ApiError>;
}

type Claim = 'claimed' | 'accepted' | 'inflight' | 'mismatch' | 'unchecked';

/**
 * Claims every id (in the turn's shared pipeline). When Redis is unreachable, ingest keeps accepting ('unchecked'):
 * the processor's flag still applies each id once, only the 409/422 answers are lost meanwhile.
 */
async function claimAll(deps: AcceptDeps, messages: Message[], digests: string[], now: number): Promise<Claim[]> {
  try {
    const replies = await sharedPipeline(
      deps.redis,
      (p) =>
        messages.forEach((m, i) =>
          callScript(
            p,
            'tx.claim',
            [statusKey(m.id)],
            [digests[i]!, now, limits.claimInFlightMs, deps.idempotencyWindowMs],
          ),
        ),
      messages.length,
    );
    const failed = replies.find(([err]) => err);
    if (failed) dropIfTimedOut(deps.redis, failed[0]);
    return replies.map(([err, reply]) => (err ? 'unchecked' : (reply as Claim)));
  } catch (e) {
    dropIfTimedOut(deps.redis, e);
    deps.log.warn('idempotency check skipped: Redis unavailable', { error: (e as Error).message });
    return messages.map(() => 'unchecked');
  }
}

/** One command in the event-loop turn's shared pipeline (common/redis-batch.ts): its [error, reply]. */
const coalesced = (redis: Redis, add: (p: ChainableCommander) => unknown): Promise<Reply> =>
  sharedPipeline(redis, add).then((replies) => replies[0] ?? [new Error('no reply'), null]);
