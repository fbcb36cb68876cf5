import { defineConfig } from 'vitest/config';

// The pipeline suites share one broker and one Redis (or one cluster of each) on a 2-core machine: their
// files run one after another.
const pipelineTest = {
  globalSetup: ['test/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        // Specs beside the modules they check: pure logic, no Kafka, no Redis, no child processes.
        test: { name: 'spec', include: ['**/*.spec.ts'], exclude: ['**/node_modules/**', '.cache/**'] },
      },
      {
        test: { name: 'pipeline', include: ['test/**/*.test.ts'], exclude: ['test/cluster/**'], ...pipelineTest },
      },
      {
        // The cluster topology (stack/services.ts provideClusterServices): the invariant suites' core as they
        // are, and the slot checks. `npm test` runs it after the others, never beside them.
        test: {
          name: 'cluster',
          include: [
            'test/cluster/**/*.test.ts',
            'test/transfers.test.ts',
            'test/stock.test.ts',
            'test/seats.test.ts',
            // History in the entities' own slots; outcomes and changes announced across the cluster's nodes.
            'test/history.test.ts',
            'test/wait.test.ts',
            'test/streams.test.ts',
          ],
          exclude: ['test/cluster/faults.test.ts'],
          ...pipelineTest,
        },
      },
      {
        // Node loss on a cluster the file starts itself (it kills and restarts its nodes): no shared services.
        test: {
          name: 'cluster-faults',
          include: ['test/cluster/faults.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
