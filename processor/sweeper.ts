// The sweeper: finds holds, reservations and seat holds past their ttl and publishes expire commands
// through Kafka, so every state change is in the log and a replay repeats it.
//
// Its index is one sorted set per partition of a domain topic, expiring:{<topic>/<partition>} (a hold's
// commands all travel in its entity's partition), member "<entity> <hold id>", score the
// expiry (message time + ttl). A Lua script touches one entity's hash tag, so the index cannot be written
// there: the processor writes it after the script, in the pipeline that writes status records, from the
// step's outcome (opened: ZADD; no longer pending: ZREM). Index and state cannot drift apart for long: an
// entry whose write was lost to a crash is rewritten when the message is redelivered, and a stale entry
// only yields an expire command the script answers with the hold's final state.
//
// The expire command carries the sweeper's clock as its Kafka timestamp; the script expires the hold only
// if that time is at or past its expiry (else `not_due`, no flag), so a replay decides the same way. That
// clock is Redis's (TIME), not this host's: a processor whose clock runs ahead would otherwise expire every
// hold early by its skew.
//
// Once its expire command is out, an entry's score moves to the time it may be published again: applied
// meanwhile, the entry is gone; stuck behind a stalled partition, it waits its turn again behind the holds
// that are due after it, instead of filling every sweep's page ahead of them.
import type { ChainableCommander } from 'ioredis';
import type { Message as KafkaRecord } from 'kafkajs';
import type { Topics } from '../common/config.ts';
import { domainRegistry, domains, type Domain } from '../common/domains.ts';
import { expiringKey, legacyExpiringKey } from '../common/keys.ts';
import type { KafkaSender } from '../common/kafka-sender.ts';
import type { RedisClient } from '../common/redis.ts';
import type { Logger } from '../common/log.ts';
import { encodeMessage, type Message } from '../common/messages/index.ts';
import { sweeperExpirations } from '../common/metrics.ts';
import type { ExpiringChange } from './commands/types.ts';
import { limits } from '../common/limits.ts';

const member = (entity: string, hold: string) => `${entity} ${hold}`;

/** Queues the index change of one step (on the status-record pipeline). */
export function writeExpiring(
  p: ChainableCommander,
  topic: string,
  partition: number,
  entity: string,
  change: ExpiringChange,
): void {
  const key = expiringKey(topic, partition);
  if ('opened' in change) p.zadd(key, change.expiresAt, member(entity, change.opened));
  else p.zrem(key, member(entity, change.settled));
}

/** Redis's clock in milliseconds. */
async function redisClock(redis: RedisClient): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * The expire command of a domain (common/domains.ts): the hold's id as the message id, keyed by the entity.
 * That each domain has this type with these fields is checked in common/domains.spec.ts.
 */
export const expireCommand = (domain: Domain, entity: string, id: string) =>
  ({ id, type: `${domain}.expire`, [domainRegistry[domain].entity]: entity }) as Message;

export interface SweeperOptions {
  redis: RedisClient;
  sender: KafkaSender;
  /** The partitions this processor owns now: it sweeps their indexes only, so members never sweep twice. */
  owned: () => Array<{ topic: string; partition: number }>;
  topics: Topics;
  log: Logger;
  intervalMs: number;
  /** The sweeper's clock, Redis's by default (tests may drive it); its reading becomes the expire commands' timestamp. */
  now?: () => number | Promise<number>;
  /** Most holds expired per partition per sweep. */
  maxPerSweep?: number;
}

export class Sweeper {
  private readonly republishAfterMs: number;
  private readonly now: () => number | Promise<number>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly o: SweeperOptions) {
    this.now = o.now ?? (() => redisClock(o.redis));
    // Long enough for the processor to apply an expire command (and drop the entry) under load.
    this.republishAfterMs = Math.max(10 * o.intervalMs, 10_000);
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sweep()
        .catch((e: Error) => this.o.log.warn('sweep failed; retrying next interval', { error: (e as Error).message }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.o.intervalMs);
  }

  /** One pass over every domain; returns how many expire commands it published. */
  async sweep(): Promise<number> {
    const now = await this.now();
    let sent = 0;
    const owned = this.o.owned();
    for (const domain of domains) {
      const topic = this.o.topics[domain];
      const mine = owned.filter((p) => p.topic === topic);
      for (const { partition } of mine)
        sent += await this.sweepIndex(domain, topic, expiringKey(topic, partition), now);
      // The one index per topic that earlier versions kept, drained by the owner of the topic's partition 0.
      if (mine.some((p) => p.partition === 0))
        sent += await this.sweepIndex(domain, topic, legacyExpiringKey(topic), now, { legacy: true });
    }
    if (sent) this.o.log.info('published expire commands', { count: sent });
    return sent;
  }

  private async sweepIndex(
    domain: Domain,
    topic: string,
    key: string,
    now: number,
    o: { legacy?: boolean } = {},
  ): Promise<number> {
    const due = await this.o.redis.zrangebyscore(
      key,
      '-inf',
      now,
      'LIMIT',
      0,
      this.o.maxPerSweep ?? limits.maxExpiresPerSweep,
    );
    if (!due.length) return 0;
    const messages: KafkaRecord[] = due.map((m) => {
      const [entity, id] = m.split(' ') as [string, string];
      return { key: entity, value: encodeMessage(expireCommand(domain, entity, id)), timestamp: String(now) };
    });
    await this.o.sender.send([{ topic, messages }]);
    sweeperExpirations.inc({ type: `${domain}.expire` }, due.length);
    // XX: an entry the processor removed meanwhile (its expire applied) stays removed. A legacy entry goes:
    // the processor removes the entries of the per-partition index only, and its expire is in the log now.
    if (o.legacy) await this.o.redis.zrem(key, ...due);
    else await this.o.redis.zadd(key, 'XX', ...due.flatMap((m) => [now + this.republishAfterMs, m]));
    return due.length;
  }

  /** Stops after the sweep in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
