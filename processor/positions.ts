// Where each partition must resume: Redis's own position (its watermarks, processor/watermarks.ts), not
// only the group's committed offset. Kafka is the log and Redis a cache of its effect that can forget
// its last writes: an unsynced AOF tail after a crash, a replica promoted while behind, an older snapshot
// restored. The group's offsets can be wrong the other way too: expired (Kafka drops an empty group's
// offsets after a week) or reset. So the watermarks win:
//
// - On every assignment, on every Redis reconnect, when Redis's identity changes and every `checkMs`,
//   each owned partition's watermark is compared with what this processor last wrote there and with the
//   group's committed offset. Behind: Redis lost writes; the partition is sought back to the watermark + 1
//   and the lost tail applied again (the idempotency flags make that apply only what was lost, and "now"
//   from the message keeps it deterministic). Ahead of the committed offset: the partition is sought
//   forward, so nothing already applied is applied again, even where its flags have expired.
// - A batch is applied only when it starts exactly at the partition's next offset, and its watermark moves
//   only from the offset before its first (a compare-and-set after its effects): a loss or a second writer
//   is found at the next batch, never papered over by a later watermark.
// - A replay that reaches messages older than the flag retention (minus a margin) is refused: their flags
//   may have expired while their effects survived. The partition is paused, readiness goes down, and the
//   error says what to do.
import type { Admin, Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from '../common/log.ts';
import { refusedPartitions, rewoundMessages, rewinds } from '../common/metrics.ts';
import type { Assignment } from './lag.ts';
import type { RedisIdentity, Watermarks } from './watermarks.ts';

interface PartitionState {
  /** The offset the next applied message must have; undefined while fresh (no watermark, never committed). */
  next?: number;
  /** What the watermark holds now, as far as this processor knows (undefined: none). */
  watermark?: number;
  /** Messages up to this offset are a replay of what Redis lost: each is checked against the retention. */
  replayUntil?: number;
  /** Seeks to `next` after which the log still started elsewhere: the log no longer has that offset. */
  misses: number;
  refused?: string;
}

/** A batch let through: its messages, and what its watermark must hold before it moves. */
export interface Admission {
  topic: string;
  partition: number;
  first: number;
  expected: number | undefined;
  generation: number;
}

export interface PositionsOptions {
  consumer: Consumer;
  admin: Admin;
  watermarks: Watermarks;
  groupId: string;
  retentionMs: number;
  checkMs: number;
  log: Logger;
  now?: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fieldOf = (topic: string, partition: number) => `${topic}/${partition}`;

export class Positions {
  private readonly states = new Map<string, PartitionState>();
  private assignment: Assignment = {};
  /** Moves on every verification of all partitions: batches admitted before it stop at their next step. */
  private generation = 0;
  private verifying: Promise<void> | undefined;
  private identity: RedisIdentity | undefined;
  private problem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly now: () => number;

  constructor(private readonly o: PositionsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** False while a partition is refused or Redis is set up to evict keys; the reason is in the log. */
  healthy(): boolean {
    return !this.problem && ![...this.states.values()].some((s) => s.refused);
  }

  /** The partitions this member now owns: every one is verified before its first batch. */
  assign(assignment: Assignment): void {
    this.assignment = assignment;
    const owned = new Set(this.owned().map((p) => fieldOf(p.topic, p.partition)));
    for (const field of this.states.keys()) if (!owned.has(field)) this.states.delete(field);
    this.countRefused();
    this.reverify('assignment');
  }

  /** The Redis connection came back: it may be another Redis, or the same one with less in it. */
  redisReconnected(): void {
    this.reverify('Redis reconnected');
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => void this.check().finally(tick), this.o.checkMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * Lets a batch through when it starts where Redis stands; otherwise seeks the partition there (or
   * refuses it) and returns undefined: the batch is not applied and its offsets are not resolved.
   */
  async admit(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<Admission | undefined> {
    await this.settled(heartbeat);
    const s = this.state(topic, partition);
    if (s.refused || !messages.length) return undefined;
    const first = Number(messages[0]!.offset);
    s.next ??= first; // fresh: the log's start is where this partition begins
    if (first !== s.next) {
      // Fetched from elsewhere: the committed offset before the seek took effect, or a log that no longer
      // holds the offset (retention deleted it, or the topic was recreated).
      if (++s.misses > 3) {
        this.refuse(
          topic,
          partition,
          s,
          `the log does not start at offset ${s.next}, where Redis stands (it gave ${first}): ` +
            'retention deleted what Redis still needs, or the topic was recreated',
        );
        return undefined;
      }
      this.seek(topic, partition, s.next);
      return undefined;
    }
    s.misses = 0;
    if (s.replayUntil !== undefined) {
      const oldest = this.now() - this.o.retentionMs + this.margin();
      const stale = messages.find((m) => Number(m.offset) <= s.replayUntil! && Number(m.timestamp) < oldest);
      if (stale) {
        this.refuse(
          topic,
          partition,
          s,
          `replaying offset ${stale.offset} (from ${new Date(Number(stale.timestamp)).toISOString()}) ` +
            "would reach past the idempotency flags' retention: its flag may have expired while its effect survived. " +
            'Restore Redis from a newer copy, or rebuild it from the log into an empty Redis with a new TXPIPE_GROUP_ID',
        );
        return undefined;
      }
    }
    return { topic, partition, first, expected: s.watermark, generation: this.generation };
  }

  /** False once the admitted batch must stop: its partition was sought elsewhere or everything is being verified. */
  stillValid(a: Admission): boolean {
    return a.generation === this.generation && this.states.get(fieldOf(a.topic, a.partition))?.next === a.first;
  }

  /** After the batch's effects are complete: moves its watermark. False when it could not (the batch is not done). */
  async advance(a: Admission, last: number): Promise<boolean> {
    const r = await this.o.watermarks.advance(a.topic, a.partition, a.expected, last);
    const s = this.state(a.topic, a.partition);
    if (r.moved) {
      if (this.stillValid(a)) {
        s.watermark = last;
        s.next = last + 1;
        if (s.replayUntil !== undefined && s.replayUntil <= last) s.replayUntil = undefined;
      }
      return true;
    }
    // Redis holds another position: it lost writes (behind), or another member applied this partition too.
    this.o.log.warn('watermark moved under this batch', {
      topic: a.topic,
      partition: a.partition,
      expected: a.expected ?? null,
      found: r.current ?? null,
    });
    this.reverify('watermark moved under a batch');
    return false;
  }

  /** The partitions this member owns now. */
  owned(): Array<{ topic: string; partition: number }> {
    return Object.entries(this.assignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
  }

  private state(topic: string, partition: number): PartitionState {
    const field = fieldOf(topic, partition);
    let s = this.states.get(field);
    if (!s) this.states.set(field, (s = { misses: 0 }));
    return s;
  }

  /** Messages this much younger than the retention are still safe to replay (clock skew, the replay's own time). */
  private margin(): number {
    return Math.min(this.o.retentionMs / 10, 3_600_000);
  }

  private reverify(why: string): void {
    this.generation++;
    const run = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.verifyAll();
          return;
        } catch (e) {
          if (attempt === 1 || attempt % 10 === 0)
            this.o.log.warn('cannot verify partition positions yet; batches wait', {
              why,
              error: (e as Error).message,
            });
          await sleep(Math.min(100 * 2 ** attempt, 2000));
        }
      }
    };
    const previous = this.verifying;
    const p: Promise<void> = (previous ?? Promise.resolve()).then(run).finally(() => {
      if (this.verifying === p) this.verifying = undefined;
    });
    this.verifying = p;
  }

  /** Waits for a verification under way, heartbeating so the group keeps this member meanwhile. */
  private async settled(heartbeat: () => Promise<void>): Promise<void> {
    while (this.verifying) {
      const done = this.verifying.then(() => true);
      const beat = sleep(3000).then(() => false);
      if (!(await Promise.race([done, beat]))) await heartbeat().catch(() => undefined);
    }
  }

  private async checkIdentity(): Promise<boolean> {
    const identity = await this.o.watermarks.identity();
    const changed = this.identity !== undefined && this.identity.runId !== identity.runId;
    this.identity = identity;
    if (identity.maxmemoryPolicy !== 'noeviction') {
      this.problem =
        `Redis maxmemory-policy is ${identity.maxmemoryPolicy}: it may evict idempotency flags and status records ` +
        '(a transaction applied twice). Set maxmemory-policy noeviction.';
      this.o.log.error(this.problem);
      throw new Error(this.problem);
    }
    this.problem = undefined;
    return changed;
  }

  /** Every owned partition: where Redis stands, against what this member wrote and what the group committed. */
  private async verifyAll(): Promise<void> {
    await this.checkIdentity();
    const owned = this.owned();
    if (!owned.length) return;
    const topics = [...new Set(owned.map((p) => p.topic))];
    const [marks, committed, starts] = await Promise.all([
      this.o.watermarks.read(owned, { level: true }),
      this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics }),
      Promise.all(topics.map(async (topic) => [topic, await this.o.admin.fetchTopicOffsets(topic)] as const)),
    ]);
    const committedAt = new Map(
      committed.flatMap((t) => t.partitions.map((p) => [fieldOf(t.topic, p.partition), Number(p.offset)] as const)),
    );
    const logStart = new Map(
      starts.flatMap(([topic, ps]) => ps.map((p) => [fieldOf(topic, p.partition), Number(p.low)] as const)),
    );
    owned.forEach(({ topic, partition }, i) => {
      const field = fieldOf(topic, partition);
      const s = this.state(topic, partition);
      this.place(topic, partition, s, marks[i], committedAt.get(field) ?? -1, logStart.get(field) ?? 0);
    });
  }

  /**
   * Decides where a partition resumes from its watermark (undefined: none) against the highest offset
   * known applied (this member's own writes, the group's commit), and seeks there when it differs.
   */
  private place(
    topic: string,
    partition: number,
    s: PartitionState,
    watermark: number | undefined,
    committed: number,
    logStart: number,
  ): void {
    const known = Math.max(s.watermark ?? -1, s.replayUntil ?? -1, committed - 1);
    s.watermark = watermark;
    s.misses = 0;
    if (watermark !== undefined) {
      s.next = watermark + 1;
    } else if (known >= 0) {
      // Redis has no trace of this partition although it was applied up to `known`: all of it was lost.
      s.next = logStart;
    } else {
      s.next = undefined; // fresh: starts where the log starts
    }
    if (s.next !== undefined && s.next <= known) {
      s.replayUntil = Math.max(s.replayUntil ?? -1, known);
      rewinds.inc({ topic });
      rewoundMessages.inc({ topic }, known - s.next + 1);
      this.o.log.error('Redis lost writes the processor had applied: replaying them from the log', {
        topic,
        partition,
        watermark: watermark ?? null,
        appliedUpTo: known,
        resumeAt: s.next,
      });
    }
    if (s.next !== undefined) this.seek(topic, partition, s.next);
  }

  private seek(topic: string, partition: number, offset: number): void {
    try {
      this.o.consumer.seek({ topic, partition, offset: String(offset) });
    } catch (e) {
      this.o.log.warn('seek failed; the next batch seeks again', {
        topic,
        partition,
        offset,
        error: (e as Error).message,
      });
    }
  }

  private countRefused(): void {
    refusedPartitions.set([...this.states.values()].filter((s) => s.refused).length);
  }

  private refuse(topic: string, partition: number, s: PartitionState, reason: string): void {
    if (s.refused) return;
    s.refused = reason;
    this.countRefused();
    this.o.log.error('partition refused: nothing more is applied there until an operator acts', {
      topic,
      partition,
      reason,
    });
    this.o.consumer.pause([{ topic, partitions: [partition] }]);
  }

  /** The bounded check: a rollback does not always come with a restart or a reconnect. */
  private async check(): Promise<void> {
    if (this.checking || this.verifying) return;
    this.checking = true;
    try {
      if (await this.checkIdentity()) return this.reverify('Redis identity changed');
      const owned = this.owned().filter((p) => this.state(p.topic, p.partition).watermark !== undefined);
      const marks = await this.o.watermarks.read(owned);
      // Read after this member's last advance on the same connection: lower (or gone) means lost.
      const lost = owned.some(({ topic, partition }, i) => {
        const mark = marks[i];
        return mark === undefined || mark < this.state(topic, partition).watermark!;
      });
      if (lost) this.reverify('a watermark went back');
    } catch (e) {
      this.o.log.debug('position check failed; retrying next interval', { error: (e as Error).message });
    } finally {
      this.checking = false;
    }
  }
}
