// Runs a partition's commands as one contiguous part of a pipeline on one connection (the partitions
// handled in the same event-loop turn share it: common/redis-batch.ts): Redis executes them in order, so
// the partition's order is kept. A transient failure (connection lost, LOADING, BUSY, READONLY...) retries
// the whole round with backoff: every script is idempotent, so re-running one already applied is safe.
import { ReplyError, type ChainableCommander } from 'ioredis';
import type { RedisClient } from '../common/redis.ts';
import { luaDuration } from '../common/metrics.ts';
import { sharedPipeline } from '../common/redis-batch.ts';
import { callScript, type ScriptReply } from '../lua/scripts.ts';

export interface ScriptCall {
  script: string;
  keys: string[];
  args: (string | number)[];
}

/** A script that failed on its own (a Lua runtime error): the message goes to the DLQ, the rest go on. */
export interface ScriptFailure {
  failed: string;
}

export interface RetryHooks {
  /** False once the consumer stops or loses the partition: give up and leave the offsets unresolved. */
  keepGoing(): boolean;
  /** Called before each wait (heartbeat, metrics, logs). */
  onRetry(err: Error, attempt: number): Promise<void> | void;
}

const isScriptError = (e: unknown) =>
  e instanceof ReplyError && /user_script|Error running script|Error compiling script/.test((e as Error).message);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `round` until it succeeds, or returns undefined once `keepGoing()` turns false. */
export async function withRetry<T>(hooks: RetryHooks, round: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 1; hooks.keepGoing(); attempt++) {
    try {
      return await round();
    } catch (e) {
      if (!hooks.keepGoing()) break;
      await hooks.onRetry(e as Error, attempt);
      await sleep(Math.min(100 * 2 ** Math.min(attempt, 5), 3000));
    }
  }
  return undefined;
}

export function runScripts(redis: RedisClient, calls: ScriptCall[], hooks: RetryHooks) {
  return withRetry(hooks, async () => {
    const started = performance.now();
    const replies = await sharedPipeline(
      redis,
      (pipeline) => {
        for (const c of calls) callScript(pipeline, c.script, c.keys, c.args);
      },
      calls.length,
    );
    const transient = replies.find(([err]) => err && !isScriptError(err));
    if (transient) throw transient[0];
    // A pipeline has no per-command timing: each call is charged an even share of the round.
    const share = (performance.now() - started) / 1000 / calls.length;
    for (const c of calls) luaDuration.observe({ script: c.script }, share);
    return replies.map(([err, reply]): ScriptReply | ScriptFailure =>
      err ? { failed: err.message } : (reply as ScriptReply),
    );
  });
}

/** Plain Redis writes (status records) under the same retry policy; false when abandoned. */
export async function runWrites(
  redis: RedisClient,
  fill: (p: ChainableCommander) => void,
  hooks: RetryHooks,
  size?: number,
) {
  const done = await withRetry(hooks, async () => {
    const failed = (await sharedPipeline(redis, fill, size)).find(([err]) => err);
    if (failed) throw failed[0];
    return true;
  });
  return done === true;
}
