import { defineConfig } from 'vitest/config';

// Two projects: fast tests (unit, store) run files in parallel; Temporal tests (integration,
// e2e) start real servers and run one file at a time so they never share a time-skipping
// server's clock and never compete for the machine. Forks pool everywhere: the SDK's core bridge
// is a native addon that does not belong in worker threads.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.mts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/temporal/**', 'test/e2e/**', '**/node_modules/**'],
          testTimeout: 15_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
