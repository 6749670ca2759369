/**
 * The Zoom web-client adapter against the local Zoom replica in a real Chromium: every UI
 * variant joins, the waiting room (inside `.meeting-app`) is not taken for the call, a meeting
 * the host starts later is waited for, each end screen maps to its sub_code, and the name is
 * typed with real keys. (The speaker signal: zoom-speakers.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { parseMeetingUrl } from '../../../lib/meeting-url.js';
import type { ZoomMeetingSettings } from '../../../test/replicas/zoom/server.js';
import { BOT, adapter, browser, newMeeting, openBot, people, replica, waitFor } from './zoom-test-kit.js';

describe('ZoomWebAdapter.navigationUrl', () => {
  it.each([
    ['regional host with pwd', 'https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lz.1', 'https://app.zoom.us/wc/81234567890/join?pwd=dGhpc2lz.1'],
    ['vanity host, no passcode', 'https://acme.zoom.us/j/8123456789', 'https://app.zoom.us/wc/8123456789/join'],
    ['webinar with registrant token', 'https://us06web.zoom.us/w/81234567890?tk=abc.DEF-1&pwd=R1h2', 'https://app.zoom.us/wc/81234567890/join?pwd=R1h2&tk=abc.DEF-1'],
    ['classic web-client link', 'https://zoom.us/wc/join/81234567890?pwd=abc', 'https://app.zoom.us/wc/81234567890/join?pwd=abc'],
    ['ZoomGov keeps its host, classic client', 'https://agency.zoomgov.com/j/1612345678?pwd=Gov1', 'https://agency.zoomgov.com/wc/join/1612345678?pwd=Gov1'],
  ])('%s', (_label, link, expected) => {
    const parsed = parseMeetingUrl(link);
    expect(parsed.ok && adapter.navigationUrl(parsed.meeting)).toBe(expected);
  });
});

describe('ZoomWebAdapter on the Zoom replica', () => {
  const variants: [string, Partial<ZoomMeetingSettings>, { host?: string }][] = [
    ['new client, two permission dialogs, waiting room, speaker view, audio dialog', { webClient: 'new', permissionDialogs: 2, passcode: 'x7Kd9Q', view: 'speaker', audioPrompt: 'dialog' }, {}],
    [
      'classic client (redirected), cookie banner, passcode typed into its field, gallery, footer audio',
      { webClient: 'classic', cookieBanner: true, permissionDialogs: 1, passcode: '482913', passcodeEntry: 'field', view: 'gallery', audioPrompt: 'footer' },
      {},
    ],
    [
      'launch page first on a vanity host, "Join from your browser" to the classic client',
      { entry: 'landing', webClient: 'classic', cookieBanner: true, permissionDialogs: 0, passcode: '55aa11', view: 'speaker' },
      { host: 'acme.zoom.us' },
    ],
  ];

  it.each(variants)('joins through the waiting room without mistaking it for the call (%s)', async (_label, settings, link) => {
    const id = newMeeting({ waitingRoom: true, ...settings });
    const host = await people.join(replica.origin, id, 'Ada Lovelace');
    const bot = await openBot(replica.meetingUrl(id, link));
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      expect(await replica.waitForKnock(id, 5000)).toEqual({ name: BOT });
      // The waiting room is rendered inside .meeting-app; the adapter must still say waiting_room.
      const lobby = await waitFor(bot.ctx, (o) => o.state === 'waiting_room');
      expect(lobby.participants).toBeNull();
      expect(await bot.page.locator('.meeting-app').count()).toBe(1);
      expect(bot.page.url()).toContain(settings.webClient === 'classic' ? `/wc/join/${id}` : `/wc/${id}/join`);

      replica.admit(id, BOT);
      const inCall = await waitFor(bot.ctx, (o) => o.state === 'in_call');
      await adapter.dismissInCallDialogs(bot.ctx);
      // Computer audio joined, microphone muted (the classic client turns it on when audio joins).
      await expect.poll(() => replica.participants(id).find((p) => p.name === BOT), { timeout: 5000 }).toMatchObject({ audio: true, muted: true });
      expect(inCall.count).toBe(2);
      const full = await waitFor(bot.ctx, (o) => (o.participants?.length ?? 0) === 2);
      expect(full.participants!.filter((p) => !p.isSelf).map((p) => p.name)).toEqual(['Ada Lovelace']);
      expect(full.participants!.filter((p) => p.isSelf).map((p) => p.name)).toEqual([BOT]);

      // Chat both ways; a message that reads like an end screen does not end the call.
      expect(await adapter.sendChatMessage(bot.ctx, 'Notula is recording this call.')).toBe(true);
      await expect.poll(() => replica.chatMessages(id).map((m) => m.text), { timeout: 5000 }).toContain('Notula is recording this call.');
      await host.chat('You have been removed from this meeting, just kidding');
      await bot.page.getByText('just kidding').waitFor();
      // The footer (with Leave) hides after a few seconds without the mouse: still in the call.
      await bot.page.locator('#wc-footer.footer--hidden').waitFor({ state: 'attached', timeout: 6000 });
      expect(await bot.page.locator('button[aria-label="Leave"]').isVisible()).toBe(false);
      expect((await adapter.observe(bot.ctx)).state).toBe('in_call');

      await host.leave();
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 1);
      await adapter.leave(bot.ctx);
      await expect.poll(() => replica.participants(id).length, { timeout: 5000 }).toBe(0);
    } finally {
      await bot.close();
    }
  }, 45_000);

  it.each<[string, Partial<ZoomMeetingSettings>]>([
    ['the new client, passcode embedded in pwd, cookie banner', { webClient: 'new', passcode: 'q1w2e3', cookieBanner: true, permissionDialogs: 2 }],
    ['the legacy page with the classic client inside iframe#webclient', { webClient: 'classic', iframe: true, permissionDialogs: 1, audioPrompt: 'dialog' }],
  ])('joins a meeting without a waiting room straight into the call: %s', async (_label, settings) => {
    const id = newMeeting({ waitingRoom: false, ...settings });
    const bot = await openBot(replica.meetingUrl(id));
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === 'in_call' && o.count === 1);
      const client = settings.iframe ? bot.page.frameLocator('iframe#webclient') : bot.page;
      expect(await client.locator('#input-for-pwd, #inputpasscode').count()).toBe(0);
      expect(await bot.page.locator('iframe#webclient').count()).toBe(settings.iframe ? 1 : 0);
      await adapter.dismissInCallDialogs(bot.ctx);
      await expect.poll(() => replica.participants(id).find((p) => p.name === BOT), { timeout: 5000 }).toMatchObject({ audio: true, muted: true });
      expect(await adapter.sendChatMessage(bot.ctx, 'hello from the frame')).toBe(true);
      await expect.poll(() => replica.chatMessages(id).map((m) => m.text), { timeout: 5000 }).toEqual(['hello from the frame']);
      await adapter.leave(bot.ctx);
      await expect.poll(() => replica.participants(id).length, { timeout: 5000 }).toBe(0);
    } finally {
      await bot.close();
    }
  });

  it('types the name with real key presses, which the controlled name field requires', async () => {
    const id = newMeeting({ waitingRoom: true, permissionDialogs: 0 });
    // Control: a name put in programmatically never reaches the client, and Join stays disabled.
    const naive = await openBot(replica.meetingUrl(id));
    try {
      const name = naive.page.locator('#input-for-name');
      await name.fill('Scripted Name');
      await naive.page.evaluate(() => {
        const input = document.querySelector<HTMLInputElement>('#input-for-name')!;
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, 'Scripted Name');
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      expect(await naive.page.locator('button.preview-join-button').getAttribute('class')).toContain('disabled');
      await naive.page.locator('button.preview-join-button').evaluate((b) => (b as HTMLElement).click());
      await naive.page.waitForTimeout(500);
      expect(replica.knocks(id)).toEqual([]);
    } finally {
      await naive.close();
    }
    const bot = await openBot(replica.meetingUrl(id), { botName: 'Notula · Ada’s notes' });
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      expect(await replica.waitForKnock(id, 5000)).toEqual({ name: 'Notula · Ada’s notes' });
    } finally {
      await bot.close();
    }
  });

  it.each([
    ['"Waiting for the host to start this meeting" after Join', 'wait'],
    ['"This meeting link is invalid (3,001)" until started, so the page is opened again', 'error'],
  ] as const)('waits for a meeting the host has not started: %s', async (_label, notStartedScreen) => {
    const id = newMeeting({ started: false, notStartedScreen, waitingRoom: true });
    const bot = await openBot(replica.meetingUrl(id));
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      // Not started is a wait (the runner's waiting_room_timeout_s applies), never a failure.
      const deadline = Date.now() + 4000;
      while (Date.now() < deadline) {
        expect((await adapter.observe(bot.ctx)).state).toBe('waiting_room');
        await new Promise((r) => setTimeout(r, 250));
      }
      if (notStartedScreen === 'error') expect(replica.visits(id).opened).toBeGreaterThanOrEqual(2);
      else expect(replica.visits(id)).toMatchObject({ waitingForHost: 1, opened: 1 });
      expect(replica.knocks(id)).toEqual([]);

      replica.startMeeting(id);
      await expect.poll(async () => (await adapter.observe(bot.ctx), replica.knocks(id)), { timeout: 10_000, interval: 250 }).toEqual([{ name: BOT }]);
      replica.admit(id, BOT);
      await waitFor(bot.ctx, (o) => o.state === 'in_call');
    } finally {
      await bot.close();
    }
  }, 30_000);

  it.each([
    ['removed from the call', { waitingRoom: false }, (id: string) => replica.remove(id, BOT), 'removed_from_call'],
    ['ended by the host', { waitingRoom: false }, (id: string) => replica.end(id), 'meeting_ended'],
    ['turned away from the waiting room', { waitingRoom: true }, (id: string) => replica.deny(id, BOT), 'denied_entry'],
    ['left in the waiting room until it timed out', { waitingRoom: true, waitingRoomTimeoutMs: 3000 }, () => undefined, 'waiting_room_timeout'],
    ['ended by the host while the bot waits to be let in', { waitingRoom: true }, (id: string) => replica.end(id), 'meeting_ended'],
  ] as const)('reads the end screen: %s', async (_label, settings, act, subCode) => {
    const id = newMeeting(settings);
    const host = await people.join(replica.origin, id, 'Grace Hopper');
    const bot = await openBot(replica.meetingUrl(id));
    try {
      expect(await adapter.join(bot.ctx)).toEqual({ ok: true });
      await waitFor(bot.ctx, (o) => o.state === (settings.waitingRoom === false ? 'in_call' : 'waiting_room'));
      act(id);
      const o = await waitFor(bot.ctx, (x) => x.state === 'ended');
      expect(o.end?.subCode).toBe(subCode);
    } finally {
      await host.leave();
      await bot.close();
    }
  });

  it.each([
    ['an unknown meeting id', () => replica.meetingUrl(newMeeting()).replace(/\/j\/\d+/, '/j/81999999999'), 'meeting_not_found'],
    ['a wrong passcode in the link', () => replica.meetingUrl(newMeeting({ passcode: 'right1' })).replace('right1', 'wrong2'), 'meeting_not_found'],
    ['the 2026 bot wall', () => replica.meetingUrl(newMeeting({ botWall: true })), 'bot_detected'],
  ] as const)('fails the join on %s', async (_label, link, subCode) => {
    const bot = await openBot(link());
    try {
      expect(await adapter.join(bot.ctx)).toMatchObject({ ok: false, subCode, retry: false });
    } finally {
      await bot.close();
    }
  });

});
