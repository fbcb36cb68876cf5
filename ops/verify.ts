// verify: proves the invariants on the Redis state as it is now. It SCANs each node (COUNT-bounded pages,
// never KEYS) and keeps per entity only a few running numbers, never the keys themselves, so memory grows
// with the number of entities, not of keys or transactions. Every check that needs another key reads it
// by name: the keys of one entity share its hash tag, so on a Redis Cluster they sit on the node being
// scanned; the cross-entity keys (the sweeper's index, status records) are read through `lookup`.
//
// It is a reconciliation of a state at rest: on a live pipeline an account read before a transfer's step
// and its flags read after it can disagree for an instant. Run it with the pipeline quiescent, or run it
// again before acting on a violation of a transfer or hold count.
import type { Cluster, Redis } from 'ioredis';
import type { Topics } from '../common/config.ts';
import type { Domain } from '../common/domains.ts';
import { partitionOfKey } from '../common/kafka.ts';
import { customersKey, entityKey, entriesKey, expiringKey, flagKey, holdKey } from '../common/keys.ts';
import { limits } from '../common/limits.ts';
import { classifyKey } from './verify-keys.ts';

/** The checks, by the name a violation carries (README "Operating it" lists them). */
export const checks = {
  account_numbers: 'balance, held, outgoing and overdraft are integers; held, outgoing and overdraft ≥ 0',
  account_available: 'available = balance + overdraft − held is ≥ 0 (no debit, hold or transfer took more)',
  account_limits: 'balance ≥ −overdraft and balance + outgoing + overdraft ≤ maxAmount',
  account_held: "held = the sum of the account's pending holds",
  account_outgoing: 'outgoing = 0 exactly when no transfer is in flight, and ≥ the number in flight (each ≥ 1)',
  account_closed: 'a closed account has balance, held and outgoing 0',
  account_entries:
    "the history adds up: each entry's balance is the one before it plus its amount, and the newest entry has the account's balance and available",
  hold_entity: 'every hold, reservation and seat hold lives on an entity that exists',
  hold_indexed: "every pending hold is in the sweeper's index of its topic, expiring:{<topic>/<partition>}",
  stock_numbers: 'available, reserved and sold are integers ≥ 0 and sold + reserved + available = stocked ≤ maxAmount',
  stock_reserved: "reserved = the sum of the sku's pending reservations",
  stock_customers: "the customers' units add up to reserved + sold",
  seat_state: 'each seat is free, held by one pending hold that lists it, or sold by one confirmed hold that lists it',
  seat_hold: 'each pending seat hold holds every seat it lists, each confirmed one has sold them',
  log_outcome:
    'verify --log: each outcome in <prefix>.results younger than the idempotency window has its status record in Redis, equal',
} as const;
export type CheckName = keyof typeof checks;

export interface Violation {
  check: CheckName;
  /** The entity or record, as its Redis key (or status key). */
  entity: string;
  message: string;
  numbers?: Record<string, number | string>;
}

export interface VerifyReport {
  ok: boolean;
  keysScanned: number;
  counted: {
    accounts: number;
    skus: number;
    events: number;
    holds: number;
    transfersInFlight: number;
    outcomes?: number;
  };
  violations: Violation[];
  /** States the data model allows but an operator should know of (a customer above a lowered limit). */
  warnings: Violation[];
  /** What verify cannot check from the state it has, and why. */
  notChecked: string[];
}

export interface VerifyOptions {
  /** The nodes to SCAN: the one Redis, or each master of a cluster. */
  nodes: Redis[];
  /** Reads of keys outside the scanned entity's hash tag (the one Redis, or the cluster client). */
  lookup: Redis | Cluster;
  topics: Topics;
  /** Partitions of each domain topic: a hold's index is the one of its entity's partition. */
  partitions: number;
  /** Keys per SCAN page. */
  count?: number;
  /** A progress line every `progressEvery` keys and at most every 2 s (the CLI passes stderr). */
  progress?: (line: string) => void;
}

const notChecked = [
  "outgoing's exact amount: a transfer's amount travels in its Kafka messages only (its flags store the outcome " +
    'and balances, not the amount), so verify checks the count of transfers in flight against outgoing instead',
  'entries against balances: the data model keeps no per-entity history of entries to sum',
  "each customer's units against their own reservations: checked in total per sku (stock_customers)",
];

const isInt = (n: number) => Number.isSafeInteger(n);
const num = (s: string | null | undefined) => (s === null || s === undefined ? NaN : Number(s));

interface AccountFacts {
  balance: number;
  held: number;
  outgoing: number;
  overdraft: number;
  status: string;
}
interface SkuFacts {
  available: number;
  reserved: number;
  sold: number;
  limit: number;
}

/** Running sums per entity, compared with the entity's own numbers once the scan is done. */
class Tally {
  readonly accounts = new Map<string, AccountFacts>();
  readonly heldByHolds = new Map<string, number>();
  readonly inFlight = new Map<string, number>();
  readonly skus = new Map<string, SkuFacts>();
  readonly reservedByHolds = new Map<string, number>();
  readonly customerUnits = new Map<string, number>();
  readonly entitiesOfHolds = new Map<string, Domain>();
  add(map: Map<string, number>, key: string, n: number) {
    map.set(key, (map.get(key) ?? 0) + n);
  }
}

export async function verify(o: VerifyOptions): Promise<VerifyReport> {
  const violations: Violation[] = [];
  const warnings: Violation[] = [];
  const t = new Tally();
  const counted = { accounts: 0, skus: 0, events: 0, holds: 0, transfersInFlight: 0 };
  let keysScanned = 0;
  let lastProgress = Date.now();
  const flag = (check: CheckName, entity: string, message: string, numbers?: Violation['numbers']) =>
    violations.push({ check, entity, message, ...(numbers && { numbers }) });

  for (const node of o.nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'COUNT', o.count ?? 500);
      cursor = next;
      keysScanned += keys.length;
      await checkPage(node, keys);
      if (o.progress && Date.now() - lastProgress > 2000) {
        lastProgress = Date.now();
        o.progress(
          `verify: ${keysScanned} keys scanned, ${counted.accounts} accounts, ${counted.skus} skus, ${counted.events} events, ${violations.length} violations`,
        );
      }
    } while (cursor !== '0');
  }
  compareTallies();
  return { ok: violations.length === 0, keysScanned, counted, violations, warnings, notChecked };

  async function checkPage(node: Redis, keys: string[]): Promise<void> {
    const jobs: Promise<void>[] = [];
    const pendingByIndex = new Map<string, Array<{ key: string; member: string }>>();
    const pending = (domain: Domain, entity: string, hold: string, key: string) => {
      const index = expiringKey(o.topics[domain], partitionOfKey(entity, o.partitions));
      const list = pendingByIndex.get(index) ?? [];
      list.push({ key, member: `${entity} ${hold}` });
      pendingByIndex.set(index, list);
    };
    for (const key of keys) {
      const k = classifyKey(key);
      if (!k) continue;
      switch (k.kind) {
        case 'account':
          jobs.push(
            node.hmget(key, 'balance', 'held', 'outgoing', 'overdraft', 'status').then(([b, h, out, od, status]) => {
              counted.accounts++;
              const a = {
                balance: num(b),
                held: num(h),
                outgoing: num(out ?? '0'),
                overdraft: num(od),
                status: status ?? '',
              };
              t.accounts.set(k.entity, a);
              checkAccount(key, a);
            }),
          );
          jobs.push(checkEntries(node, k.entity));
          break;
        case 'hold':
          counted.holds++;
          t.entitiesOfHolds.set(`${k.domain} ${k.entity}`, k.domain);
          jobs.push(checkHold(node, k.domain, k.entity, k.hold, key, pending));
          break;
        case 'transferDebit':
          jobs.push(checkDebit(node, k.entity, k.id));
          break;
        case 'sku':
          jobs.push(
            node.hmget(key, 'available', 'reserved', 'sold', 'limit').then(([av, re, so, li]) => {
              counted.skus++;
              const s = { available: num(av), reserved: num(re), sold: num(so), limit: num(li ?? '0') };
              t.skus.set(k.entity, s);
              const stocked = s.available + s.reserved + s.sold;
              if (
                ![s.available, s.reserved, s.sold].every((n) => isInt(n) && n >= 0) ||
                !(stocked <= limits.maxAmount)
              ) {
                flag('stock_numbers', key, 'counts not integers ≥ 0 within maxAmount', { ...s, stocked });
              }
            }),
          );
          break;
        case 'customers':
          jobs.push(
            Promise.all([node.hgetall(key), node.hget(entityKey('stock', k.entity), 'limit')]).then(
              ([units, limitText]) => {
                const limit = num(limitText ?? '0');
                for (const [customer, text] of Object.entries(units)) {
                  const n = num(text);
                  if (!isInt(n) || n <= 0)
                    flag('stock_customers', key, `customer ${customer} has ${text} units`, { customer, units: text });
                  t.add(t.customerUnits, k.entity, n);
                  if (limit > 0 && n > limit) {
                    warnings.push({
                      check: 'stock_customers',
                      entity: key,
                      message: `customer ${customer} holds ${n} units, above the limit ${limit} (allowed only if the limit was lowered since)`,
                      numbers: { customer, units: n, limit },
                    });
                  }
                }
              },
            ),
          );
          break;
        case 'event':
          counted.events++;
          jobs.push(checkSeatMap(node, k.entity, key));
          break;
        default: {
          // An entity kind with no check here (a new domain's, common/domains.ts) fails to compile.
          const unchecked: never = k;
          throw new Error(`verify has no check for ${JSON.stringify(unchecked)}`);
        }
      }
    }
    await Promise.all(jobs);
    // The sweeper's index: one ZMSCORE per partition's index for the page's pending holds.
    await Promise.all(
      [...pendingByIndex].map(async ([index, list]) => {
        const scores = await o.lookup.zmscore(index, ...list.map((p) => p.member));
        scores.forEach((s, i) => {
          if (s === null)
            flag('hold_indexed', list[i]!.key, `pending hold not in ${index}`, { member: list[i]!.member });
        });
      }),
    );
  }

  function checkAccount(key: string, a: AccountFacts): void {
    const { balance, held, outgoing, overdraft } = a;
    if (![balance, held, outgoing, overdraft].every(isInt) || held < 0 || outgoing < 0 || overdraft < 0) {
      flag('account_numbers', key, 'numbers not integers, or held/outgoing/overdraft below 0', {
        balance,
        held,
        outgoing,
        overdraft,
      });
      return;
    }
    const available = balance + overdraft - held;
    if (available < 0)
      flag('account_available', key, `available ${available} < 0`, { balance, overdraft, held, available });
    if (balance < -overdraft || balance + outgoing + overdraft > limits.maxAmount) {
      flag('account_limits', key, 'balance outside −overdraft … maxAmount − outgoing − overdraft', {
        balance,
        outgoing,
        overdraft,
      });
    }
    if (a.status === 'closed' && (balance !== 0 || held !== 0 || outgoing !== 0)) {
      flag('account_closed', key, 'closed with money in it', { balance, held, outgoing });
    }
  }

  /** The account's history against itself and against the account, read at one instant (MULTI). */
  async function checkEntries(node: Redis, account: string): Promise<void> {
    const key = entityKey('wallet', account);
    const replies = await node
      .multi()
      .hmget(key, 'balance', 'held', 'overdraft')
      .zrange(entriesKey('wallet', account), 0, -1)
      .exec();
    const [[, numbers], [, members]] = replies as [[null, (string | null)[]], [null, string[]]];
    if (!members.length || numbers[0] === null) return;
    const [balance, held, overdraft] = numbers.map(num) as [number, number, number];
    let before: number | undefined;
    for (const m of members) {
      const [entry, , type, amount, after] = m.split(' ');
      if (before !== undefined && num(after) !== before + num(amount)) {
        flag('account_entries', key, `entry ${entry} (${type}) has balance ${after}, not ${before} + ${amount}`, {
          entry: entry ?? '',
          before,
          amount: num(amount),
          after: num(after),
        });
        return;
      }
      before = num(after);
    }
    const newest = members.at(-1)!.split(' ');
    if (num(newest[4]) !== balance || num(newest[5]) !== balance + overdraft - held) {
      flag(
        'account_entries',
        key,
        `the newest entry ${newest[0]} says balance ${newest[4]}, available ${newest[5]}; the account has ${balance}, ${balance + overdraft - held}`,
        { entry: newest[0] ?? '', balance, available: balance + overdraft - held },
      );
    }
  }

  async function checkHold(
    node: Redis,
    domain: Domain,
    entity: string,
    hold: string,
    key: string,
    pending: (d: Domain, e: string, h: string, key: string) => void,
  ): Promise<void> {
    const [state, amount, quantity, seats] = await node.hmget(key, 'state', 'amount', 'quantity', 'seats');
    if (state !== 'pending' && state !== 'confirmed') return;
    if (state === 'pending') pending(domain, entity, hold, key);
    if (domain === 'wallet' && state === 'pending') t.add(t.heldByHolds, entity, num(amount));
    if (domain === 'stock' && state === 'pending') t.add(t.reservedByHolds, entity, num(quantity));
    if (domain === 'seats') {
      const list = (seats ?? '').split(' ').filter(Boolean);
      const want = `${state === 'pending' ? 'held' : 'sold'} ${hold}`;
      const values = list.length ? await node.hmget(entityKey('seats', entity), ...list) : [];
      list.forEach((seat, i) => {
        if (values[i] !== want)
          flag('seat_hold', key, `${state} hold lists seat ${seat}, which is ${values[i] ?? 'not in the map'}`, {
            seat,
            expected: want,
            found: values[i] ?? '(none)',
          });
      });
    }
  }

  async function checkDebit(node: Redis, account: string, id: string): Promise<void> {
    const [debit, settled, refunded] = await Promise.all([
      node.get(flagKey('wallet', account, id, 'debit')),
      node.exists(flagKey('wallet', account, id, 'settle')),
      node.exists(flagKey('wallet', account, id, 'refund')),
    ]);
    // The flag's value is "<digest> <code> ...": only a debit that applied sends money on its way.
    if (debit?.split(' ')[1] !== 'ok' || settled || refunded) return;
    counted.transfersInFlight++;
    t.add(t.inFlight, account, 1);
  }

  async function checkSeatMap(node: Redis, event: string, key: string): Promise<void> {
    const map = await node.hgetall(key);
    const byHold = new Map<string, string[]>();
    for (const [seat, value] of Object.entries(map)) {
      if (value === 'free') continue;
      const [state, hold, extra] = value.split(' ');
      if ((state !== 'held' && state !== 'sold') || !hold || extra !== undefined) {
        flag('seat_state', key, `seat ${seat} is '${value}'`, { seat, value });
        continue;
      }
      byHold.set(hold, [...(byHold.get(hold) ?? []), seat]);
    }
    await Promise.all(
      [...byHold].map(async ([hold, seats]) => {
        const [state, listed] = await node.hmget(holdKey('seats', event, hold), 'state', 'seats');
        const mine = new Set((listed ?? '').split(' '));
        for (const seat of seats) {
          const value = map[seat]!;
          const want = value.startsWith('held') ? 'pending' : 'confirmed';
          if (state !== want || !mine.has(seat)) {
            flag(
              'seat_state',
              key,
              `seat ${seat} is '${value}' but hold ${hold} is ${state ?? 'missing'}${mine.has(seat) ? '' : ' and does not list it'}`,
              { seat, value, holdState: state ?? '(none)' },
            );
          }
        }
      }),
    );
  }

  function compareTallies(): void {
    for (const [account, a] of t.accounts) {
      const key = entityKey('wallet', account);
      const held = t.heldByHolds.get(account) ?? 0;
      if (a.held !== held)
        flag('account_held', key, `held ${a.held} ≠ ${held} in pending holds`, { held: a.held, pendingHolds: held });
      const flying = t.inFlight.get(account) ?? 0;
      if ((a.outgoing === 0) !== (flying === 0) || a.outgoing < flying) {
        flag('account_outgoing', key, `outgoing ${a.outgoing} with ${flying} transfers in flight`, {
          outgoing: a.outgoing,
          transfersInFlight: flying,
        });
      }
    }
    for (const [sku, s] of t.skus) {
      const key = entityKey('stock', sku);
      const reserved = t.reservedByHolds.get(sku) ?? 0;
      if (s.reserved !== reserved)
        flag('stock_reserved', key, `reserved ${s.reserved} ≠ ${reserved} in pending reservations`, {
          reserved: s.reserved,
          pendingReservations: reserved,
        });
      const units = t.customerUnits.get(sku) ?? 0;
      if (units !== s.reserved + s.sold)
        flag(
          'stock_customers',
          customersKey(sku),
          `customers hold ${units} units, reserved + sold = ${s.reserved + s.sold}`,
          { customerUnits: units, reserved: s.reserved, sold: s.sold },
        );
    }
    // The entities verify has read, per domain (seat holds are checked against their map instead).
    const entitiesOf: Record<Domain, { has(entity: string): boolean }> = {
      wallet: t.accounts,
      stock: t.skus,
      seats: { has: () => true },
    };
    for (const [both, domain] of t.entitiesOfHolds) {
      const entity = both.slice(both.indexOf(' ') + 1);
      const known = entitiesOf[domain].has(entity);
      if (!known) flag('hold_entity', entityKey(domain, entity), `holds on a ${domain} entity that does not exist`);
    }
    for (const [account] of t.inFlight) {
      if (!t.accounts.has(account))
        flag('hold_entity', entityKey('wallet', account), 'transfer in flight from an account that does not exist');
    }
  }
}
