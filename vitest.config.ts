import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more workers than that only adds contention to timing-sensitive tests.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/faults/**', 'test/cluster/**', 'test/multihost/**'],
        },
      },
      {
        // Fault tests kill, freeze and restart redis-servers of their own and check
        // recovery bounds: they run after the main project, one file at a time.
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // A 3-master + 3-replica Redis Cluster of the tests' own (test/cluster/cluster.ts),
        // after the fault tests, one file at a time: a file kills masters.
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        // Several hosts as network namespaces (root and `ip netns` needed; skipped otherwise).
        extends: true,
        test: {
          name: 'multihost',
          include: ['test/multihost/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
