/**
 * Zoom, through its web client (research/platform-mechanics.md §3). The bot opens the web
 * client directly (the React client at app.zoom.us/wc/<id>/join), follows whichever page
 * Zoom answers with — the classic client, the launch page's "Join from your browser" —
 * and walks the pre-join: cookie banner, permission dialogs, passcode and name typed as
 * real keystrokes (the fields are controlled inputs that ignore programmatic values),
 * microphone and camera off, Join. In the call it joins computer audio (no audio reaches
 * the page otherwise), keeps its microphone muted and the participants panel open.
 *
 * A meeting the host has not started is a wait, not a failure: the page says so and the
 * bot stays in `waiting_room` (the runner's waiting_room_timeout_s applies), re-opening the
 * web client while Zoom answers "This meeting link is invalid (3,001)".
 */
import type { CDPSession, Frame, Locator, Page } from 'playwright-core';
import type { MeetingRef } from '../../../lib/meeting-url.js';
import { applyHostOverride, isOnHost } from '../../host-overrides.js';
import type { SubCode } from '../../status.js';
import type { JoinOutcome, Observation, PlatformAdapter, PlatformContext } from '../adapter.js';
import { ZOOM_PROBE, type ZoomEndKind, type ZoomProbe } from './probe.js';

const STEP_MS = 250;
const TYPING_DELAY_MS = 20;
const NAME_INPUT = '#input-for-name, #inputname, input[placeholder="Your Name" i]';
const PASSCODE_INPUT = 'input[placeholder*="passcode" i], input[placeholder*="password" i], input[type="password"]';
const JOIN_BUTTON = 'button.preview-join-button, #joinBtn';
const AUDIO_BY_COMPUTER = /^(Join Audio by Computer|Join with Computer Audio)$/;

export interface ZoomWebAdapterOptions {
  /** How often to re-open the web client while Zoom says the meeting has not started (3,001). */
  notStartedRetryMs?: number;
}

/** What the adapter remembers about one page (a relaunch gets a new page, and a fresh start). */
interface PageState {
  admitted: boolean;
  routed: boolean;
  /** When the page may be opened again after a 3,001 answer. */
  retryAt: number | null;
  retrying: Promise<void> | null;
}

export class ZoomWebAdapter implements PlatformAdapter {
  readonly platform = 'zoom' as const;
  private readonly notStartedRetryMs: number;
  private readonly pages = new WeakMap<Page, PageState>();

  constructor(opts: ZoomWebAdapterOptions = {}) {
    this.notStartedRetryMs = opts.notStartedRetryMs ?? 15_000;
  }

  /**
   * The web client for the meeting: `https://app.zoom.us/wc/<id>/join?pwd=…` for every
   * zoom.us host (regional and vanity hosts serve the same client there, Vexa), the classic
   * `/wc/join/<id>` on the meeting's own host for ZoomGov.
   */
  navigationUrl(meeting: MeetingRef): string {
    const u = new URL(meeting.url);
    const query = new URLSearchParams();
    for (const key of ['pwd', 'tk']) {
      const v = u.searchParams.get(key);
      if (v) query.set(key, v);
    }
    if (!query.has('pwd') && meeting.passcode) query.set('pwd', meeting.passcode);
    const qs = query.toString() ? `?${query}` : '';
    if (u.hostname === 'zoomgov.com' || u.hostname.endsWith('.zoomgov.com')) return `https://${u.hostname}/wc/join/${meeting.meetingId}${qs}`;
    return `https://app.zoom.us/wc/${meeting.meetingId}/join${qs}`;
  }

  async join(ctx: PlatformContext): Promise<JoinOutcome> {
    const { page } = ctx;
    const state = this.state(page);
    if (!state.routed) {
      state.routed = true;
      // The launch page downloads the desktop client; never let it.
      await page.route('**/*.exe', (route) => route.abort()).catch(() => undefined);
    }
    let nameAttempts = 0;
    let joinClicks = 0;
    while (!ctx.signal.aborted) {
      // Zoom's sign-in ends the join; any other page off Zoom (an error page) may pass, the join deadline decides.
      const left = leftZoom(page, ctx);
      if (left?.subCode === 'sign_in_required') return { ok: false, subCode: left.subCode, reason: left.reason, retry: false };
      const { probe, frame } = await this.read(ctx).catch(() => ({ probe: null, frame: page.mainFrame() }));
      if (probe) {
        if (probe.end) {
          const end = this.endOf(page, probe.end.kind, probe.end.reason);
          return { ok: false, subCode: end.subCode, reason: end.reason, retry: false };
        }
        if (probe.inCall || probe.waitingRoom || probe.notStarted) return { ok: true };
        if (!probe.joining) {
          const acted = await this.preJoinStep(ctx, frame, probe, nameAttempts);
          if (acted === 'typed') nameAttempts++;
          if (acted === 'joined' && ++joinClicks > 20) {
            return { ok: false, subCode: 'join_timeout', reason: 'Join was clicked but the page never left the pre-join', retry: true };
          }
        }
      }
      await page.waitForTimeout(STEP_MS);
    }
    return { ok: false, subCode: 'join_timeout', reason: 'stopped before the join request was sent', retry: true };
  }

  /** One step through whatever pre-join screen is showing; says what it did. */
  private async preJoinStep(ctx: PlatformContext, frame: Frame, probe: ZoomProbe, nameAttempts: number): Promise<'typed' | 'joined' | 'other' | 'none'> {
    const { page } = ctx;
    // The OneTrust banner makes the page underneath inert until it is answered.
    if (await clickIfVisible(frame.locator('#onetrust-accept-btn-handler'))) return 'other';
    if (probe.landing) {
      if (probe.landing.joinHref) {
        await page.goto(probe.landing.joinHref, { waitUntil: 'domcontentloaded' }).catch(() => undefined);
      } else {
        await clickIfVisible(frame.getByRole('button', { name: 'Launch Meeting', exact: true }));
      }
      return 'other';
    }
    // Permission dialogs (up to two): allowing is what lets the client join computer audio (Vexa);
    // the microphone is muted right after.
    if (await clickIfVisible(frame.locator('[role="dialog"]').getByRole('button', { name: 'Allow', exact: true }))) return 'other';
    if (await clickIfVisible(frame.getByRole('button', { name: 'Continue without microphone and camera' }))) return 'other';
    if (!probe.prejoin) return 'none';

    const passcode = frame.locator(PASSCODE_INPUT).first();
    if (await passcode.isVisible().catch(() => false)) {
      const code = ctx.meeting.passcode ?? new URL(ctx.meeting.url).searchParams.get('pwd') ?? '';
      if (!code) return 'none'; // join stays disabled; the join deadline reports it
      if ((await passcode.inputValue().catch(() => '')) !== code) {
        await typeInto(page, passcode, code);
        return 'typed';
      }
    }

    const name = frame.locator(NAME_INPUT).first();
    const joinButton = frame.locator(JOIN_BUTTON).first();
    const nameOk = (await name.inputValue().catch(() => '')) === ctx.botName;
    if (!nameOk || (!(await isClickable(joinButton)) && nameAttempts < 3)) {
      if (await name.isVisible().catch(() => false)) {
        await typeInto(page, name, ctx.botName);
        return 'typed';
      }
      return 'none';
    }

    await clickIfVisible(frame.locator('#preview-audio-control-button[aria-label="Mute"]'));
    await clickIfVisible(frame.locator('#preview-video-control-button[aria-label="Stop Video"]'));
    if (!(await isClickable(joinButton))) return 'none';
    // A DOM click: `.preview-meeting-info` may overlay the button (platform-mechanics §3.2).
    await joinButton.evaluate((b) => (b as HTMLElement).click()).catch(() => undefined);
    return 'joined';
  }

  async observe(ctx: PlatformContext): Promise<Observation> {
    const { page } = ctx;
    const state = this.state(page);
    const left = leftZoom(page, ctx);
    if (left) return ended(left.subCode, left.reason);
    if (new URL(page.url()).pathname.startsWith('/postattendee')) return ended('meeting_ended', 'the page left the meeting');
    let probe: ZoomProbe;
    try {
      probe = (await this.read(ctx)).probe;
    } catch (err) {
      // The page is navigating (a not-started retry re-opens it, a redirect): look again next time.
      if (state.retrying) return waiting();
      if (!page.isClosed() && /Execution context was destroyed|navigat/i.test((err as Error).message)) return { ...waiting(), state: 'unknown' };
      throw err;
    }
    if (probe.end) {
      const end = this.endOf(page, probe.end.kind, probe.end.reason);
      return ended(end.subCode, end.reason);
    }
    if (probe.inCall) {
      state.admitted = true;
      return { state: 'in_call', participants: probe.participants, count: probe.count, speaking: probe.speaking };
    }
    if (state.retrying) return waiting();
    if (probe.notStarted === 'error') {
      this.scheduleRetry(ctx, state);
      return waiting();
    }
    state.retryAt = null;
    if (probe.notStarted || probe.waitingRoom) return waiting();
    if (probe.joining) return { ...waiting(), state: 'joining' };
    if (probe.prejoin || probe.landing) return { ...waiting(), state: 'prejoin' };
    return { ...waiting(), state: 'unknown' };
  }

  /** Zoom answered 3,001 (not started): open the web client again every notStartedRetryMs and walk the pre-join. */
  private scheduleRetry(ctx: PlatformContext, state: PageState): void {
    const now = Date.now();
    state.retryAt ??= now + this.notStartedRetryMs;
    if (now < state.retryAt || state.retrying) return;
    ctx.log.info('zoom: meeting not started yet; opening the web client again');
    const url = applyHostOverride(this.navigationUrl(ctx.meeting), ctx.overrides);
    state.retrying = (async () => {
      await ctx.page.goto(url, { waitUntil: 'domcontentloaded' });
      await this.join(ctx);
    })()
      .catch((err: Error) => ctx.log.warn({ err }, 'zoom: re-opening the web client failed'))
      .finally(() => {
        state.retrying = null;
        state.retryAt = null;
      });
  }

  async dismissInCallDialogs(ctx: PlatformContext): Promise<void> {
    const { frame } = await this.read(ctx);
    // Computer audio: the dialog's button, or the footer's "Join Audio" (which may open the dialog).
    if (!(await clickIfVisible(frame.getByRole('button', { name: AUDIO_BY_COMPUTER })))) {
      if (await domClick(frame, 'button.join-audio-container__btn[aria-label="Join Audio"]')) {
        await frame.waitForTimeout(300);
        await clickIfVisible(frame.getByRole('button', { name: AUDIO_BY_COMPUTER }));
      }
    }
    // Zoom may turn the microphone on when audio joins; the bot only listens.
    await domClick(frame, 'button[aria-label="mute my microphone"]');
    // The participants panel is where names come from; keep it open.
    await domClick(frame, 'button[aria-label^="open the participants list"]');
  }

  async sendChatMessage(ctx: PlatformContext, text: string): Promise<boolean> {
    const { page } = ctx;
    const { frame } = await this.read(ctx);
    const editor = frame.locator('.chat-rtf-box__editor-outer [contenteditable="true"], textarea.chat-box__chat-textarea, [contenteditable="true"][aria-label^="Type message"]').first();
    if (!(await editor.isVisible().catch(() => false))) {
      if (!(await domClick(frame, 'button[aria-label^="open the chat"]'))) return false;
      await editor.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
    }
    if (!(await editor.isVisible().catch(() => false))) return false;
    await editor.focus();
    await page.keyboard.insertText(text);
    await page.keyboard.press('Enter');
    return true;
  }

  async leave(ctx: PlatformContext): Promise<void> {
    const { frame } = await this.read(ctx);
    if (await domClick(frame, 'button[aria-label="Leave"]')) {
      const confirm = frame.locator('button.leave-meeting-options__btn--danger').first();
      await confirm.waitFor({ state: 'attached', timeout: 2000 }).catch(() => undefined);
      await domClick(frame, 'button.leave-meeting-options__btn--danger');
      return;
    }
    // Waiting room or not-started screen.
    await clickIfVisible(frame.getByRole('button', { name: 'Leave', exact: true }));
  }

  // ---- helpers ---------------------------------------------------------------------------

  private state(page: Page): PageState {
    let s = this.pages.get(page);
    if (!s) {
      s = { admitted: false, routed: false, retryAt: null, retrying: null };
      this.pages.set(page, s);
    }
    return s;
  }

  /** Probes the client: the page itself, or the `iframe#webclient` it hosts. */
  private async read(ctx: PlatformContext): Promise<{ probe: ZoomProbe; frame: Frame }> {
    const { page } = ctx;
    const call = `(${ZOOM_PROBE})(${JSON.stringify(ctx.botName)})`;
    const probe = (await page.evaluate(call)) as ZoomProbe;
    if (!probe.clientIframe) return { probe, frame: page.mainFrame() };
    const frame = await (await page.$('iframe#webclient'))?.contentFrame();
    if (!frame) return { probe, frame: page.mainFrame() };
    return { probe: (await frame.evaluate(call)) as ZoomProbe, frame };
  }

  private endOf(page: Page, kind: ZoomEndKind, reason: string): { subCode: SubCode; reason: string } {
    switch (kind) {
      case 'bot_wall':
        return { subCode: 'bot_detected', reason: `Zoom's bot wall: ${reason}` };
      case 'sign_in':
        return { subCode: 'sign_in_required', reason };
      case 'invalid':
        return { subCode: 'meeting_not_found', reason };
      case 'passcode_wrong':
        return { subCode: 'meeting_not_found', reason: `Zoom rejected the passcode: ${reason}` };
      case 'ended':
        return { subCode: 'meeting_ended', reason };
      case 'removed':
        // Zoom says the same whether the host turned the bot away from the waiting room or removed it from the call.
        return this.state(page).admitted ? { subCode: 'removed_from_call', reason } : { subCode: 'denied_entry', reason: `removed from the waiting room: ${reason}` };
      case 'waiting_timeout':
        return { subCode: 'waiting_room_timeout', reason };
    }
  }
}

/** Off Zoom (and its override), or bounced to Zoom's sign-in. */
function leftZoom(page: Page, ctx: PlatformContext): { subCode: SubCode; reason: string } | null {
  const url = page.url();
  if (url === 'about:blank') return null;
  const onZoom = ['zoom.us', 'zoom.com', 'zoomgov.com'].some((host) => isOnHost(url, host, ctx.overrides));
  if (!onZoom) return { subCode: 'meeting_ended', reason: `the page left Zoom (${new URL(url).host})` };
  if (/^\/(signin|login)\b/.test(new URL(url).pathname)) return { subCode: 'sign_in_required', reason: 'redirected to Zoom sign-in' };
  return null;
}

async function clickIfVisible(locator: Locator): Promise<boolean> {
  const first = locator.first();
  if (!(await first.isVisible().catch(() => false))) return false;
  await first.click({ timeout: 2000 }).catch(() => undefined);
  return true;
}

/** Clicks through the DOM: Zoom's footer auto-hides, and Playwright will not click what it cannot see. */
async function domClick(frame: Frame, selector: string): Promise<boolean> {
  return frame
    .evaluate((sel) => {
      const el = document.querySelector(sel);
      if (!(el instanceof HTMLElement)) return false;
      el.click();
      return true;
    }, selector)
    .catch(() => false);
}

async function isClickable(button: Locator): Promise<boolean> {
  return button
    .evaluate((b) => b instanceof HTMLButtonElement && !b.disabled && !b.classList.contains('disabled'))
    .catch(() => false);
}

/**
 * Replaces a field's value with real key presses, like a person typing: Zoom's fields are
 * controlled inputs that keep only what key events brought. Characters off the US layout
 * (é, ’, ·) are sent as the key events a keyboard with that character produces, not as a
 * bare text insertion.
 */
async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
  await field.click({ timeout: 2000 }).catch(() => field.focus().catch(() => undefined));
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  let cdp: CDPSession | undefined;
  try {
    for (const ch of text) {
      if (/^[\x20-\x7e]$/.test(ch)) {
        await page.keyboard.press(ch);
      } else {
        cdp ??= await page.context().newCDPSession(page).catch(() => undefined);
        if (cdp) {
          await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch, unmodifiedText: ch });
          await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch });
        } else {
          await page.keyboard.insertText(ch);
        }
      }
      await page.waitForTimeout(TYPING_DELAY_MS);
    }
  } finally {
    await cdp?.detach().catch(() => undefined);
  }
}

function waiting(): Observation {
  return { state: 'waiting_room', participants: null, count: null, speaking: [] };
}

function ended(subCode: SubCode, reason: string): Observation {
  return { state: 'ended', end: { subCode, reason }, participants: null, count: null, speaking: [] };
}
