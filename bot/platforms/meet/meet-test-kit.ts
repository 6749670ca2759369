/**
 * What the Meet adapter tests share: the Meet replica, participants in their own Chromium, a
 * bot browser, and helpers to open a bot page and wait for an observation. Imported by a test
 * file, it registers its setup and teardown there.
 */
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { silentLogger } from '../../../lib/log.js';
import { parseMeetingUrl, type MeetingRef } from '../../../lib/meeting-url.js';
import { startMeetReplica, type MeetReplica } from '../../../test/replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../../../test/replicas/participant.js';
import { chromiumArgs } from '../../browser.js';
import { applyHostOverride } from '../../host-overrides.js';
import type { Observation, PlatformContext } from '../adapter.js';
import { MeetAdapter } from './meet-adapter.js';

export const BOT = 'Notula Notetaker';
export let replica: MeetReplica;
export let browser: Browser;
export let people: ParticipantPool;
export const adapter = new MeetAdapter();
let n = 0;

beforeAll(async () => {
  replica = await startMeetReplica();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs({ sandbox: false }), ignoreDefaultArgs: ['--enable-automation', '--mute-audio'] });
  people = await launchParticipants();
});

afterAll(async () => {
  await people?.close();
  await browser?.close();
  await replica?.close();
});

/** A fresh meeting code in Meet's `abc-defg-hij` shape. */
export function nextCode(): string {
  n += 1;
  const l = (i: number) => String.fromCharCode(97 + ((n * 7 + i) % 26));
  return `${l(0)}${l(1)}${l(2)}-${l(3)}${l(4)}${l(5)}${l(6)}-${l(7)}${l(8)}${String.fromCharCode(97 + (n % 26))}`;
}

export async function openBot(code: string, botName = BOT) {
  const parsed = parseMeetingUrl(replica.meetingUrl(code));
  if (!parsed.ok) throw new Error(parsed.reason);
  const meeting: MeetingRef = parsed.meeting;
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const overrides = new Map([['meet.google.com', replica.origin]]);
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
