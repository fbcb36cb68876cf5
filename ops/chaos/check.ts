// The chaos run's checks on the client-side history, once the pipeline is healed and drained: each id
// answered 202 has exactly one outcome (its status record, and one outcome in the results log); each id
// refused 4xx left no outcome; and the effects add up: every account's balance is what its applied
// transactions say, every sku's sold what its confirmed reservations say (a lost or doubled effect
// shows here even where each status record looks right).
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Topics } from '../../common/config.ts';
import { entityKey, statusKey } from '../../common/keys.ts';
import { readStatusFields, statusFields } from '../../common/status.ts';
import { readTopicRecords } from '../read-topic.ts';
import type { History } from './load.ts';

export interface HistoryVerdict {
  accepted: number;
  acceptedAfter503: number;
  refused: number;
  applied: number;
  rejected: number;
  /** Accepted and without an outcome in Redis. */
  lost: string[];
  /** Accepted and with two different outcomes in the results log. */
  doubled: string[];
  /** Refused 4xx and still with an outcome in Redis. */
  refusedButPresent: string[];
  /** Entities whose numbers differ from what the applied transactions add up to. */
  effects: string[];
  /** Captures and confirms refused as expired though accepted before their hold's ttl had run out. */
  expiredEarly: string[];
}

type Status = { status: string | null; code: string | null; result: Record<string, number> };

export async function checkHistory(h: History, redis: Redis, kafka: Kafka, topics: Topics): Promise<HistoryVerdict> {
  const accepted = h.accepted();
  const outcomes = new Map<string, Status>();
  for (let i = 0; i < accepted.length; i += 500) {
    const slice = accepted.slice(i, i + 500);
    const replies = await Promise.all(slice.map((e) => redis.hmget(statusKey(e.id), ...statusFields)));
    slice.forEach((e, j) => {
      const outcome = readStatusFields(replies[j]!)?.outcome;
      outcomes.set(e.id, {
        status: outcome?.status ?? null,
        code: outcome?.code ?? null,
        result: outcome?.result ?? {},
      });
    });
  }
  const lost = accepted
    .filter((e) => !['applied', 'rejected'].includes(outcomes.get(e.id)?.status ?? ''))
    .map((e) => e.id);

  // The results log: one outcome per id (redeliveries repeat it; a second, different one is a double).
  const seen = new Map<string, string>();
  const doubled = new Set<string>();
  await readTopicRecords(kafka, topics.results, ({ message }) => {
    const r = JSON.parse(message.value!.toString()) as { id: string; status: string; code: string };
    if (r.code === 'conflict') return;
    const o = `${r.status} ${r.code}`;
    const before = seen.get(r.id);
    if (before !== undefined && before !== o) doubled.add(r.id);
    else seen.set(r.id, o);
  });

  const refused = h.refused();
  const present = await Promise.all(refused.map((e) => redis.hmget(statusKey(e.id), ...statusFields)));
  const refusedButPresent = refused.filter((_, i) => readStatusFields(present[i]!)?.outcome).map((e) => e.id);

  return {
    accepted: accepted.length,
    acceptedAfter503: h.acceptedAfter503().length,
    refused: refused.length,
    applied: [...outcomes.values()].filter((o) => o.status === 'applied').length,
    rejected: [...outcomes.values()].filter((o) => o.status === 'rejected').length,
    lost,
    doubled: [...doubled],
    refusedButPresent,
    effects: await checkEffects(h, outcomes, redis),
    expiredEarly: expiredEarly(h, outcomes),
  };
}

/** Slack for the clocks of this client and ingest-api (one host here) and the hold's publish after its send. */
const clockSlackMs = 250;

/**
 * A capture, void, confirm or release answered 202 before its hold's ttl ran out is in the log ahead of any
 * rightful expire command (same entity, same partition; an expire is published only once its time has come),
 * so it must not meet an expired hold. The hold's expiry is its message time (at or after its first send)
 * plus its ttl.
 */
function expiredEarly(h: History, outcomes: Map<string, Status>): string[] {
  const early: string[] = [];
  for (const e of h.accepted()) {
    const code = outcomes.get(e.id)?.code;
    if (!code?.endsWith('_expired')) continue;
    const holdId = (e.body.hold ?? e.body.reservation) as string | undefined;
    const hold = holdId === undefined ? undefined : h.entries.get(holdId);
    if (!hold || typeof hold.body.ttl !== 'number') continue;
    const expiresNoEarlierThan = hold.attempts[0]!.sentAt + hold.body.ttl;
    const acceptedAt = e.attempts.find((a) => a.status === 202)!.answeredAt;
    if (acceptedAt < expiresNoEarlierThan - clockSlackMs) {
      early.push(
        `${e.id} (${e.body.type}): ${code}, accepted ${expiresNoEarlierThan - acceptedAt} ms before hold ${holdId} could expire`,
      );
    }
  }
  return early;
}

/** Balances and sold counts recomputed from the applied transactions, against Redis. */
async function checkEffects(h: History, outcomes: Map<string, Status>, redis: Redis): Promise<string[]> {
  const balance = new Map<string, number>();
  const sold = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  const bodies = new Map([...h.entries.values()].map((e) => [e.id, e.body]));
  for (const e of h.accepted()) {
    const o = outcomes.get(e.id);
    if (o?.status !== 'applied') continue;
    const b = e.body as {
      type: string;
      account: string;
      from: string;
      to: string;
      sku: string;
      reservation: string;
      amount: number;
    };
    switch (b.type) {
      case 'wallet.open':
        balance.set(b.account, balance.get(b.account) ?? 0);
        break;
      case 'wallet.credit':
        add(balance, b.account, b.amount);
        break;
      case 'wallet.debit':
        add(balance, b.account, -b.amount);
        break;
      case 'wallet.transfer':
        add(balance, b.from, -b.amount);
        add(balance, b.to, b.amount);
        break;
      case 'wallet.capture':
        add(balance, b.account, -(o.result.captured ?? NaN));
        break;
      case 'stock.set':
        sold.set(b.sku, sold.get(b.sku) ?? 0);
        break;
      case 'stock.confirm':
        add(sold, b.sku, Number(bodies.get(b.reservation)?.quantity));
        break;
    }
  }
  const wrong: string[] = [];
  const accounts = [...balance.keys()];
  const actual = await Promise.all(accounts.map((a) => redis.hmget(entityKey('wallet', a), 'balance', 'outgoing')));
  accounts.forEach((a, i) => {
    const [b, out] = actual[i]!;
    if (Number(b) !== balance.get(a) || Number(out) !== 0)
      wrong.push(
        `${entityKey('wallet', a)}: balance ${b} outgoing ${out}, the applied transactions say ${balance.get(a)} and 0`,
      );
  });
  const skus = [...sold.keys()];
  const stock = await Promise.all(skus.map((s) => redis.hget(entityKey('stock', s), 'sold')));
  skus.forEach((s, i) => {
    if (Number(stock[i]) !== sold.get(s))
      wrong.push(`${entityKey('stock', s)}: sold ${stock[i]}, the confirmed reservations say ${sold.get(s)}`);
  });
  return wrong;
}
