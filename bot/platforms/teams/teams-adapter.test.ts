/**
 * The Teams adapter against the local Teams replica in a real Chromium: every launcher /
 * device-prompt / pre-join variant, the lobby and its hang-up button, admission, the
 * `[role="alert"]` banner after admission, participants and counts, chat, each end screen and
 * the sign-in bounce. (The speaker signal: teams-speakers.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { TeamsMeeting, TeamsMeetingSettings } from '../../../test/replicas/teams/server.js';
import { BOT, adapter, browser, countInFrames, openBot, people, refOf, replica, sleep, waitFor } from './teams-test-kit.js';

describe('TeamsAdapter on the Teams replica', () => {
  it('navigates to the meeting link itself', () => {
    for (const url of [
      'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%7d',
      'https://teams.live.com/meet/9876543210123?p=xYz987Qw',
    ]) {
      const meeting = refOf(url);
      expect(adapter.navigationUrl(meeting)).toBe(meeting.url);
    }
  });

  const variants: [string, Partial<TeamsMeetingSettings>][] = [
    [
      '"Continue on this browser", modal before pre-join, switches on, badge count',
      { launcher: 'continue', client: 'v2', avModal: 'before-prejoin', toggles: 'on', rosterCount: 'badge', hangup: 'id', lobbyText: 'Someone will let you in soon' },
    ],
    [
      '/meet/ link, "Join on this browser", modal after "Join now", switches off, count in aria-label',
      { kind: 'meet', launcher: 'join-on-browser', client: 'v2', avModal: 'after-join', toggles: 'off', rosterCount: 'aria', hangup: 'data-tid', lobbyText: 'Waiting to be admitted' },
    ],
    [
      'aria-label "Join meeting from this browser", light-meetings iframe with the modal inside, count only in the pane',
      { launcher: 'aria-label', client: 'light', avModal: 'before-prejoin', toggles: 'on', rosterCount: 'heading', lobbyText: 'Your request to join has been sent' },
    ],
    [
      'teams.live.com, no launcher, light-meetings iframe, modal after "Join now"',
      { host: 'teams.live.com', launcher: 'none', client: 'light', avModal: 'after-join', toggles: 'on', rosterCount: 'badge', hangup: 'data-tid' },
    ],
  ];

  it.each(variants)('joins through the lobby without mistaking it for the call, and survives the alert banner (%s)', async (_label, settings) => {
    const m = replica.createMeeting({ lobby: true, ...settings });
    const host = await people.join(replica.origin, m.code, 'Ada Lovelace');
    const bot = await openBot(m.url);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      expect((await replica.waitForKnock(m.code, 5000)).name).toBe(BOT);
      // The lobby has a hang-up button and the device buttons; it is still the lobby.
      expect(await countInFrames(bot.page, '#hangup-button, button[data-tid="hangup-main-btn"]')).toBe(1);
      for (let i = 0; i < 4; i++) {
        const lobby = await adapter.observe(bot.ctx);
        expect(lobby).toMatchObject({ state: 'waiting_room', participants: null });
        await sleep(250);
      }
      // The bot joined muted, with its camera off.
      replica.admit(m.code, BOT);
      const inCall = await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 2 && (o.participants?.length ?? 0) === 2);
      expect(replica.participants(m.code).find((p) => p.name === BOT)).toMatchObject({ micOn: false, cameraOn: false });
      expect(inCall.participants!.filter((p) => !p.isSelf).map((p) => p.name)).toEqual(['Ada Lovelace']);
      expect(inCall.participants!.filter((p) => p.isSelf).map((p) => p.name)).toEqual([BOT]);

      // ~1.5 s after admission Teams shows a [role="alert"] banner; it is not a removal.
      await expect.poll(() => countInFrames(bot.page, '[role="alert"].error-message [data-tid*="retry"]'), { timeout: 5000 }).toBe(1);
      for (let i = 0; i < 3; i++) {
        expect((await adapter.observe(bot.ctx)).state).toBe('in_call');
        await sleep(200);
      }

      expect(await adapter.sendChatMessage(bot.ctx, 'Notula is recording this call.')).toBe(true);
      await expect.poll(() => replica.chatMessages(m.code).map((c) => [c.from, c.text]), { timeout: 5000 }).toEqual([[BOT, 'Notula is recording this call.']]);
      // Chat took the People pane; participants still come through (the pane comes back).
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.participants?.length === 2);

      await host.leave();
      const alone = await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 1);
      expect(alone.participants?.map((p) => p.name)).toEqual([BOT]);
      await adapter.leave(bot.ctx);
      await waitFor(bot.ctx, (o) => o.state === 'ended');
      expect(replica.participants(m.code)).toEqual([]);
    } finally {
      await bot.close();
    }
  });

  it('finds "Continue without audio or video" inside the light-meetings iframe', async () => {
    const m = replica.createMeeting({ lobby: false, launcher: 'none', client: 'light', avModal: 'before-prejoin', toggles: 'on' });
    const bot = await openBot(m.url);
    try {
      const modal = 'button:has-text("Continue without audio or video")';
      await expect.poll(() => countInFrames(bot.page, modal), { timeout: 5000 }).toBe(1);
      expect(await bot.page.mainFrame().locator(modal).count()).toBe(0);
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call');
      expect(await countInFrames(bot.page, modal)).toBe(0);
      expect(replica.participants(m.code)).toMatchObject([{ name: BOT, micOn: false, cameraOn: false }]);
    } finally {
      await bot.close();
    }
  });

  it.each([
    ['denied', 'denied_entry', (code: string) => replica.deny(code, BOT)],
    ['ended while in the lobby', 'meeting_ended', (code: string) => replica.end(code)],
  ] as const)('reads the lobby end screen: %s', async (_l, subCode, act) => {
    const m = replica.createMeeting({ lobby: true });
    const bot = await openBot(m.url);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await replica.waitForKnock(m.code, 5000);
      act(m.code);
      expect((await waitFor(bot.ctx, (o) => o.state === 'ended')).end?.subCode).toBe(subCode);
    } finally {
      await bot.close();
    }
  });

  it.each([
    ['removed', 'removed_from_call', (code: string) => replica.remove(code, BOT)],
    ['ended by the organizer', 'meeting_ended', (code: string) => replica.end(code)],
  ] as const)('reads the in-call end screen: %s', async (_l, subCode, act) => {
    const m = replica.createMeeting({ lobby: false, client: 'light' });
    const bot = await openBot(m.url);
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call');
      act(m.code);
      expect((await waitFor(bot.ctx, (o) => o.state === 'ended')).end?.subCode).toBe(subCode);
    } finally {
      await bot.close();
    }
  });

  it.each<[string, (() => string), string]>([
    ['an unknown meeting', () => 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_ZmFrZS1tZWV0aW5n%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%7d', 'meeting_not_found'],
    ['a wrong passcode', () => replica.createMeeting({ kind: 'meet' }).url.replace(/\?p=.*/, '?p=WrongPass1'), 'meeting_not_found'],
    ['a meeting that asks guests to sign in', () => replica.createMeeting({ signIn: 'prompt' }).url, 'sign_in_required'],
    ['a bounce to the sign-in form', () => replica.createMeeting({ signIn: 'login' }).url, 'sign_in_required'],
    ['a captcha', () => replica.createMeeting({ captcha: true }).url, 'bot_detected'],
  ])('fails the join on %s', async (_l, url, subCode) => {
    const bot = await openBot(url());
    try {
      expect(await adapter.join(bot.ctx)).toMatchObject({ ok: false, subCode });
    } finally {
      await bot.close();
    }
  });

  it('recognises the sign-in bounce by the page host before the sign-in form is drawn', async () => {
    const m: TeamsMeeting = replica.createMeeting({
      signIn: 'login',
      loginOrigin: `http://login.microsoftonline.com:${replica.port}`,
      loginFormDelayMs: 60_000,
    });
    const bot = await openBot(m.url);
    try {
      const started = Date.now();
      const outcome = await adapter.join(bot.ctx);
      expect(outcome).toMatchObject({ ok: false, subCode: 'sign_in_required', reason: expect.stringContaining('login.microsoftonline.com') });
      expect(Date.now() - started).toBeLessThan(25_000); // far below the form's 60 s, on a busy machine
      expect(await bot.page.locator('input[name="loginfmt"]').count()).toBe(0);
      expect((await adapter.observe(bot.ctx)).end?.subCode).toBe('sign_in_required');
    } finally {
      await bot.close();
    }
  });

});
