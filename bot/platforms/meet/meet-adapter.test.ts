/**
 * The Meet adapter against the local Meet replica in a real Chromium: every join variant,
 * the lobby false positives, admission, participants and counts, and each end screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { silentLogger } from '../../../lib/log.js';
import { parseMeetingUrl, type MeetingRef } from '../../../lib/meeting-url.js';
import { startMeetReplica, type MeetingSettings, type MeetReplica } from '../../../test/replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../../../test/replicas/participant.js';
import { chromiumArgs } from '../../browser.js';
import { applyHostOverride } from '../../host-overrides.js';
import type { Observation, PlatformContext } from '../adapter.js';
import { MeetAdapter } from './meet-adapter.js';

let replica: MeetReplica;
let browser: Browser;
let people: ParticipantPool;
const adapter = new MeetAdapter();
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

function nextCode(): string {
  n += 1;
  const l = (i: number) => String.fromCharCode(97 + ((n * 7 + i) % 26));
  return `${l(0)}${l(1)}${l(2)}-${l(3)}${l(4)}${l(5)}${l(6)}-${l(7)}${l(8)}${String.fromCharCode(97 + (n % 26))}`;
}

async function openBot(code: string, botName = 'Notula Notetaker') {
  const parsed = parseMeetingUrl(replica.meetingUrl(code));
  if (!parsed.ok) throw new Error(parsed.reason);
  const meeting: MeetingRef = parsed.meeting;
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const overrides = new Map([['meet.google.com', replica.origin]]);
  const ctx: PlatformContext = { page, meeting, botName, overrides, log: silentLogger, signal: AbortSignal.timeout(30_000) };
  await page.goto(applyHostOverride(adapter.navigationUrl(meeting), overrides));
  return { ctx, close: () => context.close() };
}

async function waitFor(ctx: PlatformContext, pred: (o: Observation) => boolean, timeoutMs = 10_000): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  let last: Observation | undefined;
  while (Date.now() < deadline) {
    last = await adapter.observe(ctx);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met; last observation ${JSON.stringify(last)}`);
}

describe('MeetAdapter on the Meet replica', () => {
  it('pins English in the URL it opens', () => {
    const parsed = parseMeetingUrl('https://meet.google.com/abc-defg-hij');
    expect(parsed.ok && adapter.navigationUrl(parsed.meeting)).toBe('https://meet.google.com/abc-defg-hij?hl=en');
  });

  const variants: [string, Partial<MeetingSettings>][] = [
    ['2025 toolbar, buttons, continue-without modal', { toolbar: '2025', toggles: 'button', mediaModal: 'continue-without' }],
    ['2026 toolbar, div toggles, use-mic-cam modal, Got it', { toolbar: '2026', toggles: 'div', mediaModal: 'use-mic-cam', postJoinModal: 'got-it' }],
    ['no modal, recording notice, Ask to join anyway', { toolbar: '2026', mediaModal: 'none', postJoinModal: 'recording-notice', joinText: 'Ask to join anyway' }],
  ];

  it.each(variants)('knocks, waits in the lobby without mistaking it for the call, and is admitted (%s)', async (_label, settings) => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: true, ...settings });
    const host = await people.join(replica.origin, code, 'Ada Lovelace');
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      expect((await replica.waitForKnock(code, 5000)).name).toBe('Notula Notetaker');
      // The lobby shows "Leave call" and the toggles; the adapter must still say waiting_room.
      const lobby = await waitFor(bot.ctx, (o) => o.state === 'waiting_room');
      expect(lobby.participants).toBeNull();
      expect(await bot.ctx.page.locator('button[aria-label="Leave call"]').count()).toBeGreaterThan(0);
      replica.admit(code, 'Notula Notetaker');
      const inCall = await waitFor(bot.ctx, (o) => o.state === 'in_call' && (o.participants?.length ?? 0) >= 2);
      await adapter.dismissInCallDialogs(bot.ctx);
      expect(inCall.count).toBe(2);
      const others = inCall.participants!.filter((p) => !p.isSelf).map((p) => p.name);
      expect(others).toEqual(['Ada Lovelace']);
      expect(inCall.participants!.filter((p) => p.isSelf)).toHaveLength(1);
      // Chat works once dialogs are gone.
      expect(await adapter.sendChatMessage(bot.ctx, 'Notula is recording this call.')).toBe(true);
      await expect.poll(() => replica.chatMessages(code).map((m) => m.text), { timeout: 5000 }).toContain('Notula is recording this call.');
      await host.leave();
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 1);
    } finally {
      await bot.close();
    }
  });

  it('joins an open meeting straight away ("Join now")', async () => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: false });
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call');
    } finally {
      await bot.close();
    }
  });

  it.each([
    ['denied', (code: string) => replica.deny(code, 'Notula Notetaker'), 'denied_entry'],
  ] as const)('reads the %s screen', async (_l, act, subCode) => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: true });
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await replica.waitForKnock(code, 5000);
      act(code);
      const o = await waitFor(bot.ctx, (x) => x.state === 'ended');
      expect(o.end?.subCode).toBe(subCode);
    } finally {
      await bot.close();
    }
  });

  it.each([
    ['removed', (code: string) => replica.remove(code, 'Notula Notetaker'), 'removed_from_call'],
    ['ended by the host', (code: string) => replica.end(code), 'meeting_ended'],
  ] as const)('reads the %s screen', async (_l, act, subCode) => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: false });
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call');
      act(code);
      const o = await waitFor(bot.ctx, (x) => x.state === 'ended');
      expect(o.end?.subCode).toBe(subCode);
    } finally {
      await bot.close();
    }
  });

  it('reports an unknown meeting code as meeting_not_found', async () => {
    const bot = await openBot('zzz-zzzz-zzz');
    try {
      expect(await adapter.join(bot.ctx)).toMatchObject({ ok: false, subCode: 'meeting_not_found' });
    } finally {
      await bot.close();
    }
  });

  it('reports a refused knock as bot_detected (retryable)', async () => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: true, blocked: true });
    const bot = await openBot(code);
    try {
      const outcome = await adapter.join(bot.ctx);
      const final = outcome.ok ? (await waitFor(bot.ctx, (o) => o.state === 'ended')).end : outcome;
      expect(final).toMatchObject({ subCode: 'bot_detected' });
    } finally {
      await bot.close();
    }
  });

  it('reports the lobby timeout screen as waiting_room_timeout', async () => {
    const code = nextCode();
    replica.createMeeting(code, { lobby: true, lobbyTimeoutMs: 1500 });
    const bot = await openBot(code);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      const o = await waitFor(bot.ctx, (x) => x.state === 'ended');
      expect(o.end?.subCode).toBe('waiting_room_timeout');
    } finally {
      await bot.close();
    }
  });
});
