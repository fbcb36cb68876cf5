// ingest-api and processor as child processes on their own topic prefix, against given Kafka and Redis.
import path from 'node:path';
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

export async function startPipeline(svc: Pick<Services, 'kafkaBrokers' | 'redisUrl'>, prefix: string, o: PipelineOptions): Promise<Pipeline> {
  const [ingestPort, processorPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TXPIPE_KAFKA_BROKERS: svc.kafkaBrokers.join(','),
    TXPIPE_REDIS_URL: svc.redisUrl,
    TXPIPE_TOPIC_PREFIX: prefix,
    TXPIPE_INGEST_PORT: String(ingestPort),
    TXPIPE_PROCESSOR_PORT: String(processorPort),
    TXPIPE_LOG_LEVEL: 'warn',
    ...o.env,
  };
  const url = `http://127.0.0.1:${ingestPort}`;
  const appDir = o.appDir ?? repoRoot;
  const nodeArgs = o.nodeArgs ?? [];
  const p: Pipeline = {
    prefix, topics: topicNames(prefix), groupId: `${prefix}-processor`, url,
    ingest: new Service('ingest-api', env, `${url}/readyz`, { logFile: path.join(o.workDir, `${prefix}-ingest-api.log`), nodeArgs, appDir }),
    processor: new Service('processor', env, `http://127.0.0.1:${processorPort}/readyz`, { logFile: path.join(o.workDir, `${prefix}-processor.log`), nodeArgs, appDir }),
  };
  await Promise.all([o.ingest && p.ingest.start(), o.processor && p.processor.start()]);
  return p;
}
