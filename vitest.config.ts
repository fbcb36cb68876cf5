import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        // Specs beside the modules they check: pure logic, no Kafka, no Redis, no child processes.
        test: { name: 'spec', include: ['**/*.spec.ts'], exclude: ['**/node_modules/**'] },
      },
      {
        test: {
          name: 'pipeline',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // All files share one broker and one Redis on a 2-core machine: run them one after another.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
