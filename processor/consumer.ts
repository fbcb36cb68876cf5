// The kafkajs consumer group: eachBatch per partition, partitions concurrently, offsets resolved only
// after a batch's Redis writes and Kafka publishes are confirmed.
import type { Consumer, Kafka } from 'kafkajs';
import { domains, type Topics } from '../common/config.ts';
import { commitDuration, kafkaRetries, pausedPartitions, processorBatchSize, redisRetries } from '../common/metrics.ts';
import { handleBatch, type BatchDeps } from './batch.ts';
import { watchLag } from './lag.ts';

export interface ConsumerOptions {
  groupId: string;
  partitionsConcurrently: number;
  fetchMaxBytes: number;
  /** Readiness: true once the consumer is in its group, false after a crash. */
  onMembership(inGroup: boolean): void;
}

export async function startConsumer(kafka: Kafka, deps: BatchDeps, topics: Topics, opts: ConsumerOptions): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    // With data waiting a fetch returns at once; this bounds the wait only when partitions are idle.
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: opts.fetchMaxBytes,
    allowAutoTopicCreation: false,
  });
  const lag = watchLag(kafka, opts.groupId, deps.log);
  // Listeners go on before connect: the first join can happen before run() resolves.
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    opts.onMembership(true);
    lag.assign(e.payload.memberAssignment);
    deps.log.info('joined consumer group', { groupId: opts.groupId, assignment: e.payload.memberAssignment });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    opts.onMembership(false);
    lag.assign({});
    deps.log.error('consumer crashed', { error: e.payload.error.message, restart: e.payload.restart });
  });
  consumer.on(consumer.events.DISCONNECT, () => void lag.stop());
  consumer.on(consumer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'OffsetCommit') commitDuration.observe(e.payload.duration / 1000);
  });
  await consumer.connect();
  // A new group starts at the beginning: everything accepted before the processor first ran is applied.
  await consumer.subscribe({ topics: domains.map((d) => topics[d]), fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
      if (batch.isEmpty()) return;
      processorBatchSize.observe(batch.messages.length);
      let paused = false;
      const hooks = {
        keepGoing: () => isRunning() && !isStale(),
        onRetry: async (err: Error, attempt: number) => {
          // kafkajs errors are named KafkaJS*; anything else came from Redis (ioredis or a reply error).
          (err.name.startsWith('KafkaJS') ? kafkaRetries : redisRetries).inc();
          if (!paused) pausedPartitions.inc();
          paused = true;
          if (attempt === 1 || attempt % 10 === 0) {
            deps.log.warn('batch paused, retrying', { topic: batch.topic, partition: batch.partition, attempt, error: err.message });
          }
          await heartbeat().catch(() => undefined);
        },
      };
      const done = await handleBatch(deps, batch, hooks).finally(() => {
        if (paused) pausedPartitions.dec();
      });
      if (!done) return; // stopping or rebalanced: nothing resolved, the batch is delivered again
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return consumer;
}
