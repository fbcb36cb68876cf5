// ingest-api and processor as child processes on their own topic prefix, against given Kafka and Redis.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKey } from '../../ops/keys.ts';
import { topics as topicNames, type Topics } from '../../common/config.ts';
import { repoRoot } from '../../stack/kafka-jars.ts';
import { freePort } from '../../stack/ports.ts';
import type { Services } from '../../stack/services.ts';
import { Service } from '../../stack/app-service.ts';

export interface Pipeline {
  prefix: string;
  topics: Topics;
  groupId: string;
  url: string;
  ingest: Service;
  processor: Service;
}

export interface PipelineOptions {
  /** Where logs (and CPU profiles) go. */
  workDir: string;
  /** Start these now (false: create only; start() later, e.g. to time a cold start). */
  ingest: boolean;
  processor: boolean;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** The checkout to run (default: this one). */
  appDir?: string;
  env?: NodeJS.ProcessEnv;
}

let keysFile: string | undefined;

/**
 * With TXPIPE_AUTH=on: a keys file holding one key that may do everything, unlimited in practice (the
 * benchmark measures what authentication and the rate limiter's Redis call cost, not the limit), and the
 * key in process.env.TXPIPE_KEY, which the load tools (k6/*.js, bench/wrk-mix.lua) inherit and send.
 */
function benchKey(): NodeJS.ProcessEnv {
  if (process.env.TXPIPE_AUTH !== 'on') return {};
  if (!keysFile) {
    keysFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'txpipe-bench-keys-')), 'keys.json');
    process.env.TXPIPE_KEY = createKey(keysFile, {
      name: 'bench',
      scope: '*',
      read: 'all',
      rate: 1_000_000_000,
      burst: 1_000_000_000,
    }).key;
  }
  return { TXPIPE_KEYS_FILE: keysFile };
}

/** Authentication off unless the bench runs with TXPIPE_AUTH=on: then every pipeline shares one key. */
export const benchAuthEnv = (): NodeJS.ProcessEnv => ({ TXPIPE_AUTH: process.env.TXPIPE_AUTH ?? 'off', ...benchKey() });

export async function startPipeline(
  svc: Pick<Services, 'kafkaBrokers' | 'redisUrl'>,
  prefix: string,
  o: PipelineOptions,
): Promise<Pipeline> {
  const [ingestPort, processorPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TXPIPE_KAFKA_BROKERS: svc.kafkaBrokers.join(','),
    TXPIPE_REDIS_URL: svc.redisUrl,
    TXPIPE_TOPIC_PREFIX: prefix,
    TXPIPE_INGEST_PORT: String(ingestPort),
    TXPIPE_PROCESSOR_PORT: String(processorPort),
    TXPIPE_LOG_LEVEL: 'warn',
    ...benchAuthEnv(),
    ...o.env,
  };
  const url = `http://127.0.0.1:${ingestPort}`;
  const appDir = o.appDir ?? repoRoot;
  const nodeArgs = o.nodeArgs ?? [];
  const p: Pipeline = {
    prefix,
    topics: topicNames(prefix),
    groupId: `${prefix}-processor`,
    url,
    ingest: new Service('ingest-api', env, `${url}/readyz`, {
      logFile: path.join(o.workDir, `${prefix}-ingest-api.log`),
      nodeArgs,
      appDir,
    }),
    processor: new Service('processor', env, `http://127.0.0.1:${processorPort}/readyz`, {
      logFile: path.join(o.workDir, `${prefix}-processor.log`),
      nodeArgs,
      appDir,
    }),
  };
  await Promise.all([o.ingest && p.ingest.start(), o.processor && p.processor.start()]);
  return p;
}
