// Tests run in child processes (the native addon is loaded once per test file) and the SDK is
// compiled to dist/ first, because one test starts a plain `node` process that imports it.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
