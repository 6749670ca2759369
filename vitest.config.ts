import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other. `unit` (API, database, browser-driven adapter tests)
 * runs two files at a time. `media` holds what plays real audio in real time and measures
 * it (capture, live transcription, the replicas' WebRTC, end-to-end bots): its files run one
 * at a time after `unit`, so a busy core does not distort the WER and latency they assert.
 */
const MEDIA = [
  'bot/capture/**/*.test.ts',
  'bot/transcribe/**/*.test.ts',
  'test/**/*.test.ts',
  // These measure the speaker signal against speech played in real time.
  'bot/platforms/teams/**/*.test.ts',
  'bot/platforms/zoom/zoom-adapter.test.ts',
];
const shared = { testTimeout: 30_000, hookTimeout: 120_000, pool: 'forks' } as const;

export default defineConfig({
  test: {
    // Root only (projects don't extend it), so one Postgres serves the whole run.
    globalSetup: ['test/harness/global-setup.ts'],
    ...shared,
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['{lib,api,bot,scheduler,recordings}/**/*.test.ts'],
          exclude: MEDIA,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'media',
          include: MEDIA,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
