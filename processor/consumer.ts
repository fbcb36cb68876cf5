// The kafkajs consumer group: eachBatch per partition, partitions concurrently, offsets resolved only
// after a batch's Redis writes and Kafka publishes are confirmed.
import type { Consumer, Kafka } from 'kafkajs';
import type { Topics } from '../common/config.ts';
import { domains } from '../common/domains.ts';
import { commitDuration, kafkaRetries, pausedPartitions, processorBatchSize, redisRetries } from '../common/metrics.ts';
import { dropIfTimedOut, isCluster } from '../common/redis.ts';
import { handleBatch, type BatchDeps } from './batch.ts';
import { watchLag } from './lag.ts';
import { Positions } from './positions.ts';
import { withRetry } from './run-scripts.ts';
import { Watermarks } from './watermarks.ts';
import { limits } from '../common/limits.ts';

export interface ConsumerOptions {
  groupId: string;
  partitionsConcurrently: number;
  fetchMaxBytes: number;
  fetchWaitMs: number;
  /** How often each owned partition's watermark is compared with what this processor wrote there. */
  watermarkCheckMs: number;
  /** Readiness: true once the consumer is in its group, false after a crash. */
  onMembership(inGroup: boolean): void;
}

export async function startConsumer(
  kafka: Kafka,
  deps: BatchDeps,
  topics: Topics,
  opts: ConsumerOptions,
): Promise<{ consumer: Consumer; positions: Positions }> {
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: limits.consumerSessionMs,
    heartbeatInterval: 3_000,
    // A fetch returns once fetchMinBytes are waiting, or after fetchWaitMs with what there is: under light
    // load each round (its Redis round trips, produce and commit) carries that long's messages instead of a
    // handful, for at most that much more end-to-end latency; under heavy load it returns at once.
    maxWaitTimeInMs: opts.fetchWaitMs,
    minBytes: limits.fetchMinBytes,
    maxBytesPerPartition: opts.fetchMaxBytes,
    // One fetch holds at most a partition's worth for each partition handled at once: the memory of a
    // fetch (decoded, with its pipelines and publishes) stays proportional to the work in hand.
    maxBytes: Math.min(opts.fetchMaxBytes * opts.partitionsConcurrently, limits.maxFetchBytes),
    allowAutoTopicCreation: false,
  });
  const lag = watchLag(kafka, opts.groupId, deps.log);
  const admin = kafka.admin();
  const positions = new Positions({
    consumer,
    admin,
    watermarks: new Watermarks(deps.redis),
    groupId: opts.groupId,
    retentionMs: deps.retention.flagMs,
    checkMs: opts.watermarkCheckMs,
    log: deps.log,
  });
  // Connected before this runs: every later 'ready' is a reconnect, perhaps to a Redis that lost writes.
  deps.redis.on('ready', () => positions.redisReconnected());
  // A cluster node dropped from the client's view (a master failed over): its replica may be behind.
  if (isCluster(deps.redis)) deps.redis.on('-node', () => positions.redisReconnected());
  // Listeners go on before connect: the first join can happen before run() resolves.
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    opts.onMembership(true);
    lag.assign(e.payload.memberAssignment);
    positions.assign(e.payload.memberAssignment);
    deps.log.info('joined consumer group', { groupId: opts.groupId, assignment: e.payload.memberAssignment });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    opts.onMembership(false);
    lag.assign({});
    positions.assign({});
    deps.log.error('consumer crashed', { error: e.payload.error.message, restart: e.payload.restart });
  });
  consumer.on(consumer.events.DISCONNECT, () => {
    positions.stop();
    void lag.stop();
    void admin.disconnect().catch(() => undefined);
  });
  consumer.on(consumer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'OffsetCommit') commitDuration.observe(e.payload.duration / 1000);
  });
  await Promise.all([consumer.connect(), admin.connect()]);
  // A new group starts at the beginning: everything accepted before the processor first ran is applied.
  await consumer.subscribe({ topics: domains.map((d) => topics[d]), fromBeginning: true });
  const commit = sharedCommits();
  await consumer.run({
    eachBatchAutoResolve: false,
    // We commit (below), not kafkajs: it would send one OffsetCommit after every partition's batch.
    // Threshold 1: commitOffsetsIfNecessary() commits every offset resolved so far.
    autoCommit: false,
    autoCommitThreshold: 1,
    partitionsConsumedConcurrently: opts.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
      if (batch.isEmpty()) return;
      // Applied only where Redis stands (processor/positions.ts); otherwise sought there, nothing resolved.
      const admitted = await positions.admit(batch.topic, batch.partition, batch.messages, heartbeat);
      if (!admitted) return;
      processorBatchSize.observe(batch.messages.length);
      let paused = false;
      // The group took the partition away (another member may own it now): stop retrying beside it.
      let revoked = false;
      const hooks = {
        keepGoing: () => isRunning() && !isStale() && !revoked && positions.stillValid(admitted),
        onRetry: async (err: Error, attempt: number) => {
          // kafkajs errors are named KafkaJS*; anything else came from Redis (ioredis or a reply error).
          (err.name.startsWith('KafkaJS') ? kafkaRetries : redisRetries).inc();
          dropIfTimedOut(deps.redis, err);
          if (!paused) pausedPartitions.inc();
          paused = true;
          if (attempt === 1 || attempt % 10 === 0) {
            deps.log.warn('batch paused, retrying', {
              topic: batch.topic,
              partition: batch.partition,
              attempt,
              error: err.message,
            });
          }
          await heartbeat().catch((e: { type?: string }) => {
            if (revokingErrors.has(e.type ?? '')) revoked = true;
          });
        },
      };
      const done = await handleBatch(deps, batch, hooks)
        .then((handled) => handled && withRetry(hooks, () => positions.advance(admitted, Number(batch.lastOffset()))))
        .finally(() => {
          if (paused) pausedPartitions.dec();
        });
      // Stopping, rebalanced or sought elsewhere: nothing resolved, the batch is delivered again.
      if (!done) return;
      resolveOffset(batch.lastOffset());
      // Committed before eachBatch returns, as kafkajs would (so a stop or rebalance loses nothing), but in
      // one request with the batches finishing alongside. A failed commit is retried by the next one; the
      // offsets stay resolved, and a redelivery in between only meets the idempotency flags.
      await commit(() => commitOffsetsIfNecessary()).catch((e: Error) =>
        deps.log.warn('offset commit failed; the next commit carries it', { error: e.message }),
      );
      await heartbeat();
    },
  });
  positions.start();
  return { consumer, positions };
}

/** Heartbeat answers saying this member no longer owns its partitions as they were assigned. */
const revokingErrors = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

/**
 * Commits of batches finishing together share one request: while one is in flight, every caller waits for
 * the single next one, which starts after it and carries all the offsets resolved meanwhile.
 */
function sharedCommits() {
  let inflight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const run = (commit: () => Promise<void>) => {
    const p: Promise<void> = commit().finally(() => {
      if (inflight === p) inflight = undefined;
    });
    inflight = p;
    return p;
  };
  return (commit: () => Promise<void>): Promise<void> => {
    if (queued) return queued;
    if (!inflight) return run(commit);
    const q = inflight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return run(commit);
      });
    queued = q;
    return q;
  };
}
