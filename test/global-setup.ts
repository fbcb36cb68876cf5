// Starts Kafka + Redis once for the whole run (env, testcontainers or local) and hands them to tests.
import type { TestProject } from 'vitest/node';
import { provideClusterServices, provideServices, type Services } from '../stack/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * What stack/services.ts provided, less its stop(): `faults` (toxiproxy and the broker behind it) on the
     * local stack only, tests that need it skip elsewhere; `redisCluster` and `replication` on a cluster run.
     */
    services: Omit<Services, 'stop'>;
  }
}

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  const log = (s: string) => console.log(`[global-setup] ${s}`);
  // The `cluster` project runs its files on the cluster topology; every other on one node of each.
  const cluster = project.name === 'cluster';
  const services = await (cluster ? provideClusterServices : provideServices)({ partitions: 6, log });
  log(
    `services from ${services.source} in ${Date.now() - t0} ms: kafka ${services.kafkaBrokers.join(',')}, redis ${services.redisCluster?.join(',') ?? services.redisUrl}`,
  );
  const { kafkaBrokers, redisUrl, redisCluster, replication, source, faults } = services;
  if (faults) log(`faults: toxiproxy ${faults.toxiproxyUrl}, kafka proxied at ${faults.kafkaProxied.join(',')}`);
  project.provide('services', {
    kafkaBrokers,
    redisUrl,
    source,
    ...(faults && { faults }),
    ...(redisCluster && { redisCluster, replication }),
  });
  return async () => {
    await services.stop();
  };
}
