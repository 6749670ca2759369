/**
 * The Meet adapter against the local Meet replica in a real Chromium: every join variant,
 * the lobby false positives, admission, participants and counts, and each end screen.
 */
import { describe, expect, it } from 'vitest';
import { parseMeetingUrl } from '../../../lib/meeting-url.js';
import type { MeetingSettings } from '../../../test/replicas/meet/server.js';
import { adapter, nextCode, openBot, people, replica, waitFor } from './meet-test-kit.js';

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
    replica.createMeeting(code, { lobby: true, lobbyTimeoutMs: 3000 });
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
