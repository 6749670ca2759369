/**
 * What the Teams adapter tests share: the Teams replica with its mixer in the participants'
 * Chromium, a bot browser, and helpers to open a bot page and wait for an observation. Imported
 * by a test file, it registers its setup and teardown there.
 */
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { silentLogger } from '../../../lib/log.js';
import { parseMeetingUrl, type MeetingRef } from '../../../lib/meeting-url.js';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../../../test/harness/speech.js';
import { launchParticipants, type ParticipantPool } from '../../../test/replicas/participant.js';
import { startTeamsReplica, type TeamsReplica } from '../../../test/replicas/teams/server.js';
import { chromiumArgs } from '../../browser.js';
import { applyHostOverride } from '../../host-overrides.js';
import type { Observation, PlatformContext } from '../adapter.js';
import { TeamsAdapter } from './teams-adapter.js';

export const BOT = 'Notula Notetaker';
export let replica: TeamsReplica;
export let browser: Browser;
export let people: ParticipantPool;
export let lines: SpeechFile[];
export const adapter = new TeamsAdapter();

beforeAll(async () => {
  people = await launchParticipants();
  replica = await startTeamsReplica({ mediaBrowser: people.browser });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // The sign-in bounce test sends the page to the real sign-in host name; resolve it here.
    args: [...chromiumArgs({ sandbox: false }), '--host-resolver-rules=MAP login.microsoftonline.com 127.0.0.1'],
    ignoreDefaultArgs: ['--enable-automation', '--mute-audio'],
  });
  lines = await Promise.all(MEETING_SCRIPT.map((t) => synthesizeSpeech(t)));
});

afterAll(async () => {
  await browser?.close();
  await replica?.close();
  await people?.close();
});

export function refOf(url: string): MeetingRef {
  const parsed = parseMeetingUrl(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.meeting;
}

export async function openBot(url: string, botName = BOT) {
  const meeting = refOf(url);
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const overrides = new Map([
    ['teams.microsoft.com', replica.origin],
    ['teams.live.com', replica.origin],
  ]);
  const ctx: PlatformContext = { page, meeting, botName, overrides, log: silentLogger, signal: AbortSignal.timeout(30_000) };
  await page.goto(applyHostOverride(adapter.navigationUrl(meeting), overrides));
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

/** Counts a selector across all frames of the page. */
export async function countInFrames(page: import('playwright-core').Page, selector: string): Promise<number> {
  let n = 0;
  for (const f of page.frames()) n += await f.locator(selector).count().catch(() => 0);
  return n;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
