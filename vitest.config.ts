import { defineConfig } from 'vitest/config';

/**
 * Three groups, one after the other:
 * - `unit`: API, database, scheduler, recordings, browser-driven Meet adapter tests; two
 *   files at a time.
 * - `browser`: replicas, the Teams and Zoom adapters' join flows, cloud transcription against
 *   local fakes, the start command, calendar and Zoom SDK bots, and how bots on each platform
 *   end (`*-scenarios`: statuses only) — real browsers and decoders, but nothing that
 *   asserts how well audio survived the trip; two at a time.
 * - `media`: what plays real audio in real time and measures it (capture, live decoding,
 *   speaker signals, end-to-end bots asserting WER and attribution, crash recovery asserting
 *   what was said around each crash): one file at a time, so a busy core does not distort
 *   what they assert.
 */
const MEDIA = [
  'bot/capture/**/*.test.ts',
  'bot/transcribe/pocketsphinx.test.ts',
  'bot/platforms/*/*-speakers.test.ts',
  'test/e2e/meet-bot.test.ts',
  'test/e2e/meet-recovery.test.ts',
  'test/e2e/teams-bot.test.ts',
  'test/e2e/zoom-bot.test.ts',
  'test/e2e/assemblyai-bot.test.ts',
];
const BROWSER = [
  'test/replicas/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/e2e/*.test.ts',
  'bot/transcribe/*.test.ts',
  'bot/platforms/teams/*.test.ts',
  'bot/platforms/zoom/*.test.ts',
];
// expect.poll waits on browsers, decoders, NOTIFY and queue polls on a busy two-core machine: 1 s (vitest's default) is too short.
const shared = { testTimeout: 30_000, hookTimeout: 120_000, pool: 'forks', expect: { poll: { timeout: 10_000 } } } as const;

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
          exclude: [...BROWSER, ...MEDIA],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'browser',
          include: BROWSER,
          exclude: MEDIA,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: 'media',
          include: MEDIA,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
