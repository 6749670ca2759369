/**
 * Google Meet, through its web page (research/platform-mechanics.md §1). The join flow
 * clicks through the media modal, names the bot, turns mic and camera off and presses
 * whichever join button the page shows; state comes from MEET_PROBE.
 */
import type { Locator, Page } from 'playwright-core';
import type { MeetingRef } from '../../../lib/meeting-url.js';
import { isOnHost } from '../../host-overrides.js';
import type { SubCode } from '../../status.js';
import type { JoinOutcome, Observation, PlatformAdapter, PlatformContext } from '../adapter.js';
import { MEET_PROBE, type MeetProbe } from './probe.js';
import { TRACK_LEVELS_PROBE, type TrackLevels } from './track-levels.js';
import { TrackSpeakers } from './track-binding.js';

const JOIN_TEXTS = /^(Ask to join|Join now|Join the call now|Join anyway|Ask to join anyway|Join here too|Switch here)$/;
const STEP_MS = 300;

async function clickIfVisible(locator: Locator): Promise<boolean> {
  const first = locator.first();
  if (!(await first.isVisible().catch(() => false))) return false;
  await first.click({ timeout: 2000 }).catch(() => undefined);
  return true;
}

export async function probeMeet(page: Page): Promise<MeetProbe> {
  return (await page.evaluate(MEET_PROBE)) as MeetProbe;
}

export class MeetAdapter implements PlatformAdapter {
  readonly platform = 'google_meet' as const;
  /** Per page (one adapter serves every bot of the process): who each remote stream carries. */
  #speakers = new WeakMap<Page, TrackSpeakers>();

  navigationUrl(meeting: MeetingRef): string {
    const u = new URL(meeting.url);
    // Pin the UI language: the flow matches English texts (Vexa #856).
    u.searchParams.set('hl', 'en');
    return u.toString();
  }

  async join(ctx: PlatformContext): Promise<JoinOutcome> {
    const { page } = ctx;
    let named = false;
    while (!ctx.signal.aborted) {
      if (!isOnHost(page.url(), 'meet.google.com', ctx.overrides) && /accounts\.google\.com/.test(page.url())) {
        return { ok: false, subCode: 'sign_in_required', reason: 'redirected to Google sign-in', retry: false };
      }
      const probe = await probeMeet(page).catch(() => null);
      if (probe?.end) return { ok: false, subCode: probe.end.subCode as SubCode, reason: probe.end.reason, retry: probe.end.subCode === 'bot_detected' };
      if (probe?.signInRequired) return { ok: false, subCode: 'sign_in_required', reason: 'Meet asks to sign in', retry: false };
      if (probe?.lobby || probe?.inCall) return { ok: true };

      // Media modal: prefer joining without devices; otherwise accept, then turn both off below.
      await clickIfVisible(page.getByRole('button', { name: 'Continue without microphone and camera' }));
      await clickIfVisible(page.locator('button[aria-label="Use microphone and camera"]'));
      await clickIfVisible(page.locator('span', { hasText: /^Use without an account$/ }));

      const nameInput = page
        .locator('input[type="text"][aria-label="Your name"], input[jsname][type="text"], input[type="text"]:not([aria-hidden="true"])')
        .first();
      if (!named && (await nameInput.isVisible().catch(() => false))) {
        if ((await nameInput.inputValue().catch(() => '')) !== ctx.botName) {
          await nameInput.fill(ctx.botName, { timeout: 2000 }).catch(() => undefined);
        }
        named = (await nameInput.inputValue().catch(() => '')) === ctx.botName;
      }

      await clickIfVisible(page.locator('[aria-label^="Turn off microphone"]'));
      await clickIfVisible(page.locator('[aria-label^="Turn off camera"]'));

      const joinButton = page
        .locator('button', { has: page.locator('span', { hasText: JOIN_TEXTS }) })
        .or(page.locator('button[aria-label^="Ask to join"]'))
        .first();
      if ((await joinButton.isVisible().catch(() => false)) && (await joinButton.isEnabled().catch(() => false))) {
        await joinButton.click({ timeout: 3000 }).catch(() => undefined);
        // Joined or knocked: the next probe tells which (or shows an end screen).
        await page.waitForTimeout(STEP_MS);
        const after = await probeMeet(page).catch(() => null);
        if (after?.end) return { ok: false, subCode: after.end.subCode as SubCode, reason: after.end.reason, retry: after.end.subCode === 'bot_detected' };
        if (after && !after.prejoin) return { ok: true };
      }
      await page.waitForTimeout(STEP_MS);
    }
    return { ok: false, subCode: 'join_timeout', reason: 'stopped before the join request was sent', retry: true };
  }

  async observe(ctx: PlatformContext): Promise<Observation> {
    const { page } = ctx;
    if (!isOnHost(page.url(), 'meet.google.com', ctx.overrides)) {
      if (/accounts\.google\.com/.test(page.url())) return ended('sign_in_required', 'redirected to Google sign-in');
      return ended('meeting_ended', `the page left Meet (${new URL(page.url()).host})`);
    }
    const p = await probeMeet(page);
    if (p.end) return ended(p.end.subCode as SubCode, p.end.reason);
    if (p.signInRequired) return ended('sign_in_required', 'Meet asks to sign in');
    if (p.leftScreen) return { state: 'ended', end: undefined, participants: null, count: null, speaking: [] };
    const state = p.inCall ? 'in_call' : p.lobby ? 'waiting_room' : p.prejoin ? 'prejoin' : 'unknown';
    if (!p.inCall) return { state, participants: null, count: p.count, speaking: p.speaking };
    // In the call, each remote stream's level sharpens the tiles' speaking indicators.
    const levels = (await page.evaluate(TRACK_LEVELS_PROBE).catch(() => null)) as TrackLevels | null;
    if (!levels) return { state, participants: p.participants, count: p.count, speaking: p.speaking };
    let speakers = this.#speakers.get(page);
    if (!speakers) this.#speakers.set(page, (speakers = new TrackSpeakers()));
    const { snapshots, speaking } = speakers.observe(levels, p.speaking);
    return { state, participants: p.participants, count: p.count, speaking, speakingAt: snapshots };
  }

  async dismissInCallDialogs(ctx: PlatformContext): Promise<void> {
    const { page } = ctx;
    await clickIfVisible(page.locator('button', { has: page.locator('span', { hasText: /^Got it$/ }) }));
    await clickIfVisible(page.locator('div[aria-modal="true"][role="dialog"] button[data-mdc-dialog-action="ok"]'));
  }

  async sendChatMessage(ctx: PlatformContext, text: string): Promise<boolean> {
    const { page } = ctx;
    const box = page.locator('textarea[aria-label="Send a message"], textarea[aria-label^="Send a message"]').first();
    if (!(await box.isVisible().catch(() => false))) {
      if (!(await clickIfVisible(page.locator('button[aria-label="Chat with everyone"]')))) return false;
      await box.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
    }
    if (!(await box.isVisible().catch(() => false))) return false;
    await box.fill(text);
    const send = page.locator('button[aria-label="Send a message"]').first();
    if (await send.isVisible().catch(() => false)) await send.click({ timeout: 2000 });
    else await box.press('Enter');
    return true;
  }

  async leave(ctx: PlatformContext): Promise<void> {
    await clickIfVisible(ctx.page.locator('button[aria-label="Leave call"]'));
  }
}

function ended(subCode: SubCode, reason: string): Observation {
  return { state: 'ended', end: { subCode, reason }, participants: null, count: null, speaking: [] };
}
