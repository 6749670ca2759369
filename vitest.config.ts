import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lib,api,bot,scheduler,recordings,test}/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: browser end-to-end files get their own, the rest share.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
