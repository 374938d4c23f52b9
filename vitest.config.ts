import { defineConfig } from 'vitest/config';

// Each test file gets its own fresh database (tests/support/database.ts), so
// files run in parallel; the global setup picks the target and, on a server,
// migrates a template database once that every file copies.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: more workers only queue on the database.
    maxWorkers: 2,
  },
});
