// Starts Kafka + Redis once for the whole run (env, testcontainers or local) and hands them to tests.
import type { TestProject } from 'vitest/node';
import { provideServices } from '../stack/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: { kafkaBrokers: string[]; redisUrl: string; source: 'env' | 'testcontainers' | 'local' };
  }
}

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  const log = (s: string) => console.log(`[global-setup] ${s}`);
  const services = await provideServices({ partitions: 6, log });
  log(`services from ${services.source} in ${Date.now() - t0} ms: kafka ${services.kafkaBrokers.join(',')}, redis ${services.redisUrl}`);
  const { kafkaBrokers, redisUrl, source } = services;
  project.provide('services', { kafkaBrokers, redisUrl, source });
  return async () => {
    await services.stop();
  };
}
