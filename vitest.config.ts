import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'proto/**/*.test.ts',
      'kernel/**/*.test.ts',
      'gateway/**/*.test.ts',
      'regional/**/*.test.ts',
      'simulator/**/*.test.ts',
      'cli/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: socket- and disk-heavy suites run in forked workers, two at a time.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
