import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: forks keep native libraries (onnxruntime, pg) isolated per file.
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
