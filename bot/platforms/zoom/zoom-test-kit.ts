/**
 * What the Zoom web-client adapter tests share: the Zoom replica with its mixers in the
 * participants' Chromium, a bot browser with a fake (beeping) microphone, and helpers to open a
 * bot page and wait for an observation. Imported by a test file, it registers its setup and
 * teardown there.
 */
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { silentLogger } from '../../../lib/log.js';
import { parseMeetingUrl, type MeetingRef } from '../../../lib/meeting-url.js';
import { BENCHMARK_SCRIPT, synthesizeSpeech } from '../../../test/harness/speech.js';
import { launchParticipants, type ParticipantPool } from '../../../test/replicas/participant.js';
import { startZoomReplica, type ZoomMeetingSettings, type ZoomReplica } from '../../../test/replicas/zoom/server.js';
import { chromiumArgs } from '../../browser.js';
import { applyHostOverride } from '../../host-overrides.js';
import type { Observation, PlatformContext } from '../adapter.js';
import { ZoomWebAdapter } from './zoom-adapter.js';

export const BOT = 'Notula Notetaker';
export let replica: ZoomReplica;
export let browser: Browser;
export let people: ParticipantPool;
export const adapter = new ZoomWebAdapter({ notStartedRetryMs: 1500 });
export let seq = 0;

beforeAll(async () => {
  people = await launchParticipants();
  replica = await startZoomReplica({ mixers: people });
  // A fake microphone (it beeps): a client that turns it on is heard, so muting is tested for real.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...chromiumArgs({ sandbox: false }), '--use-fake-device-for-media-stream'],
    ignoreDefaultArgs: ['--enable-automation', '--mute-audio'],
  });
});

afterAll(async () => {
  await browser?.close();
  await replica?.close();
  await people?.close();
});

export function newMeeting(settings: Partial<ZoomMeetingSettings> = {}): string {
  seq += 1;
  const id = String(81200000000 + seq * 7919);
  replica.createMeeting(id, settings);
  return id;
}

export async function openBot(link: string, opts: { botName?: string; go?: boolean } = {}) {
  const parsed = parseMeetingUrl(link);
  if (!parsed.ok) throw new Error(parsed.reason);
  const meeting: MeetingRef = parsed.meeting;
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const overrides = new Map([
    ['zoom.us', replica.origin],
    ['app.zoom.us', replica.origin],
  ]);
  const ctx: PlatformContext = { page, meeting, botName: opts.botName ?? BOT, overrides, log: silentLogger, signal: AbortSignal.timeout(45_000) };
  if (opts.go !== false) await page.goto(applyHostOverride(adapter.navigationUrl(meeting), overrides));
  return { ctx, page, close: () => context.close() };
}

export async function waitFor(ctx: PlatformContext, pred: (o: Observation) => boolean, timeoutMs = 10_000): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  let last: Observation | undefined;
  while (Date.now() < deadline) {
    last = await adapter.observe(ctx);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met; last observation ${JSON.stringify(last)}`);
}
