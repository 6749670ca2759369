/**
 * Microsoft Teams, through its web client (research/platform-mechanics.md §2). The join flow
 * takes the launcher's "join in this browser" choice, answers "Continue without audio or
 * video" wherever it shows up (before the pre-join, after "Join now", inside light-meetings'
 * iframe — so every frame is searched), names the bot, switches microphone and camera off and
 * presses "Join now". State comes from TEAMS_PROBE, evaluated in every frame; a bounce to
 * Microsoft's sign-in is recognised by the page's host as well as by its form.
 */
import type { Frame, Locator, Page } from 'playwright-core';
import type { MeetingRef } from '../../../lib/meeting-url.js';
import { isOnHost } from '../../host-overrides.js';
import type { SubCode } from '../../status.js';
import type { JoinOutcome, Observation, PlatformAdapter, PlatformContext, SeenParticipant } from '../adapter.js';
import { TEAMS_PROBE, type TeamsFrameProbe } from './probe.js';

const STEP_MS = 300;
/** Microsoft's sign-in hosts: a guest bot that lands there cannot join (Vexa #915). */
const SIGN_IN_HOSTS = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.live.com', 'login.microsoft.com', 'login.windows.net'];
const LAUNCHER_BUTTON = /^(Continue on this browser|Join on this browser|Join meeting from this browser|Join on the web instead|Continue in this browser)$/i;
const AV_MODAL_BUTTON = /^Continue without audio or video$/i;
const HANGUP = '#hangup-button, button[data-tid="hangup-main-btn"]';
const ROSTER_BUTTON = '#roster-button, button[data-tid="roster-button"]';
/** How often observe() may click the People button to bring the roster back. */
const ROSTER_REOPEN_MS = 3000;

/** The whole page as one reading: each frame's probe, merged. */
export interface TeamsProbe extends TeamsFrameProbe {
  /** The frame that shows the call (or the lobby/pre-join), for clicks. */
  frame: Frame | null;
}

async function probeFrame(frame: Frame): Promise<TeamsFrameProbe | null> {
  return (await frame.evaluate(TEAMS_PROBE).catch(() => null)) as TeamsFrameProbe | null;
}

export async function probeTeams(page: Page): Promise<TeamsProbe> {
  const frames = page.frames();
  const probes = await Promise.all(frames.map(probeFrame));
  const merged: TeamsProbe = {
    end: null, signIn: null, leftScreen: false, launcher: false, avModal: false, prejoin: false, lobby: null,
    inCall: false, roster: null, tiles: [], count: null, speaking: [], pane: null, frame: null,
  };
  probes.forEach((p, i) => {
    if (!p) return;
    const frame = frames[i]!;
    merged.end ??= p.end;
    merged.signIn ??= p.signIn;
    merged.leftScreen ||= p.leftScreen;
    merged.launcher ||= p.launcher;
    merged.avModal ||= p.avModal;
    merged.prejoin ||= p.prejoin;
    merged.lobby ??= p.lobby;
    if (p.inCall && !merged.inCall) {
      merged.inCall = true;
      Object.assign(merged, { roster: p.roster, tiles: p.tiles, count: p.count, speaking: p.speaking, pane: p.pane, frame });
    }
    if (!merged.frame && (p.lobby || p.prejoin || p.end)) merged.frame = frame;
  });
  if (merged.inCall && (merged.lobby || merged.end)) merged.inCall = false;
  return merged;
}

/** The first visible match of `pick` in any frame, or null. */
async function findVisible(page: Page, pick: (f: Frame) => Locator): Promise<Locator | null> {
  for (const frame of page.frames()) {
    const loc = pick(frame).first();
    if (await loc.isVisible().catch(() => false)) return loc;
  }
  return null;
}

async function clickInAnyFrame(page: Page, pick: (f: Frame) => Locator): Promise<boolean> {
  const loc = await findVisible(page, pick);
  if (!loc) return false;
  await loc.click({ timeout: 2000 }).catch(() => undefined);
  return true;
}

function signInHost(url: string): string | null {
  try {
    const host = new URL(url).hostname;
    return SIGN_IN_HOSTS.find((h) => host === h || host.endsWith(`.${h}`)) ?? null;
  } catch {
    return null;
  }
}

const failure = (subCode: SubCode, reason: string): JoinOutcome => ({ ok: false, subCode, reason, retry: subCode === 'bot_detected' });

export class TeamsAdapter implements PlatformAdapter {
  readonly platform = 'microsoft_teams' as const;
  /** Per page: when observe() last opened the People pane, and who the roster last showed (name → entry). */
  private readonly rosterClickedAt = new WeakMap<Page, number>();
  private readonly knownPeople = new WeakMap<Page, Map<string, SeenParticipant>>();

  /** The meeting link itself: Teams' own redirects lead to the launcher and the web client. */
  navigationUrl(meeting: MeetingRef): string {
    return meeting.url;
  }

  async join(ctx: PlatformContext): Promise<JoinOutcome> {
    const { page } = ctx;
    while (!ctx.signal.aborted) {
      const bounced = signInHost(page.url());
      if (bounced) return failure('sign_in_required', `redirected to Microsoft sign-in (${bounced})`);
      const probe = await probeTeams(page);
      if (probe.end) return failure(probe.end.subCode as SubCode, probe.end.reason);
      if (probe.signIn) return failure('sign_in_required', `Teams asks to sign in: ${probe.signIn}`);
      if (probe.lobby || probe.inCall) return { ok: true };

      if (probe.launcher) {
        await clickInAnyFrame(page, (f) => f.locator('button[data-tid="joinOnWeb"]').or(f.getByRole('button', { name: LAUNCHER_BUTTON })));
      }
      // Asked before the pre-join, or after "Join now" (then it holds the join request back).
      if (probe.avModal) await clickInAnyFrame(page, (f) => f.getByRole('button', { name: AV_MODAL_BUTTON }));
      if (probe.prejoin && !probe.avModal) {
        const sent = await this.fillPrejoin(ctx);
        if (sent) {
          await page.waitForTimeout(STEP_MS);
          const after = await probeTeams(page);
          if (after.end) return failure(after.end.subCode as SubCode, after.end.reason);
          if (after.lobby || after.inCall) return { ok: true };
          continue;
        }
      }
      await page.waitForTimeout(STEP_MS);
    }
    return { ok: false, subCode: 'join_timeout', reason: 'stopped before the join request was sent', retry: true };
  }

  /** Name, devices off, computer audio, "Join now"; true once "Join now" was pressed. */
  private async fillPrejoin(ctx: PlatformContext): Promise<boolean> {
    const { page } = ctx;
    const name = await findVisible(page, (f) => f.locator('input[data-tid="prejoin-display-name-input"], input[placeholder="Type your name"]'));
    if (name && (await name.inputValue().catch(() => '')) !== ctx.botName) {
      await name.fill(ctx.botName, { timeout: 2000 }).catch(() => undefined);
    }
    // Switches: click only those that are on; a click on an off switch would turn it on.
    await clickInAnyFrame(page, (f) => f.locator('[data-tid="toggle-mute"][aria-checked="true"]'));
    await clickInAnyFrame(page, (f) => f.locator('[data-tid="toggle-video"][aria-checked="true"]'));
    // "Don't use audio" would leave the bot deaf: keep computer audio.
    await clickInAnyFrame(page, (f) => f.locator('[role="radio"][aria-label*="Computer audio"][aria-checked="false"]'));

    const named = name ? (await name.inputValue().catch(() => '')) === ctx.botName : true;
    const micOn = await findVisible(page, (f) => f.locator('[data-tid="toggle-mute"][aria-checked="true"], [data-tid="toggle-video"][aria-checked="true"]'));
    if (!named || micOn) return false;
    const join = await findVisible(page, (f) => f.locator('button[data-tid="prejoin-join-button"]'));
    if (!join || !(await join.isEnabled().catch(() => false))) return false;
    await join.click({ timeout: 3000 }).catch(() => undefined);
    return true;
  }

  async observe(ctx: PlatformContext): Promise<Observation> {
    const { page } = ctx;
    const bounced = signInHost(page.url());
    if (bounced) return ended('sign_in_required', `redirected to Microsoft sign-in (${bounced})`);
    const teamsHost = new URL(ctx.meeting.url).hostname;
    if (!isOnHost(page.url(), teamsHost, ctx.overrides)) {
      return ended('meeting_ended', `the page left Teams (${new URL(page.url()).host})`);
    }
    const p = await probeTeams(page);
    if (p.end) return ended(p.end.subCode as SubCode, p.end.reason);
    if (p.signIn) return ended('sign_in_required', `Teams asks to sign in: ${p.signIn}`);
    if (p.leftScreen) return { state: 'ended', participants: null, count: null, speaking: [] };
    if (p.inCall) {
      await this.keepRosterOpen(page, p);
      return { state: 'in_call', participants: this.participants(ctx, p), count: p.count, speaking: p.speaking };
    }
    const state = p.lobby ? 'waiting_room' : p.prejoin || p.launcher || p.avModal ? 'prejoin' : 'unknown';
    return { state, participants: null, count: null, speaking: [] };
  }

  /**
   * The People pane is the roster; Chat shares its side pane. When neither is open, open
   * People again (at most every few seconds, so a wrong reading never toggles it on every poll).
   */
  private async keepRosterOpen(page: Page, p: TeamsProbe): Promise<void> {
    if (p.pane !== null || !p.frame) return;
    const last = this.rosterClickedAt.get(page) ?? 0;
    if (Date.now() - last < ROSTER_REOPEN_MS) return;
    this.rosterClickedAt.set(page, Date.now());
    const button = p.frame.locator(ROSTER_BUTTON).first();
    if (await button.isVisible().catch(() => false)) await button.click({ timeout: 2000 }).catch(() => undefined);
  }

  /**
   * From the roster when it is open; otherwise from the video tiles (others) plus the bot,
   * keeping the ids the roster gave each name so the participant timeline does not churn.
   * Null until the roster has been read once (the first moment in the call): tiles alone
   * would give ids the roster then replaces.
   */
  private participants(ctx: PlatformContext, p: TeamsProbe): SeenParticipant[] | null {
    let known = this.knownPeople.get(ctx.page);
    if (!known) this.knownPeople.set(ctx.page, (known = new Map()));
    if (p.roster) {
      const people = p.roster.map((r) => ({ platformId: r.platformId, name: r.name, isSelf: r.isSelf || r.name === ctx.botName }));
      for (const person of people) known.set(person.name, person);
      return people;
    }
    if (known.size === 0) return null;
    const byName = (name: string, isSelf: boolean): SeenParticipant =>
      known.get(name) ?? { platformId: `name:${name.toLowerCase()}`, name, isSelf };
    return [byName(ctx.botName, true), ...p.tiles.filter((n) => n !== ctx.botName).map((n) => byName(n, false))];
  }

  async dismissInCallDialogs(ctx: PlatformContext): Promise<void> {
    // The device prompt can come back after admission; answering it keeps the call UI usable.
    await clickInAnyFrame(ctx.page, (f) => f.getByRole('button', { name: AV_MODAL_BUTTON }));
  }

  async sendChatMessage(ctx: PlatformContext, text: string): Promise<boolean> {
    const { page } = ctx;
    const composeSel = '[data-tid="ckeditor"][contenteditable="true"], div[role="textbox"][aria-label^="Type a message"]';
    let box = await findVisible(page, (f) => f.locator(composeSel));
    if (!box) {
      const opened = await clickInAnyFrame(page, (f) => f.locator('#chat-button, button[data-tid="chat-button"]'));
      if (!opened) return false;
      const deadline = Date.now() + 5000;
      while (!box && Date.now() < deadline) {
        await page.waitForTimeout(150);
        box = await findVisible(page, (f) => f.locator(composeSel));
      }
    }
    if (!box) return false;
    await box.fill(text);
    const send = await findVisible(page, (f) => f.locator('button[data-tid="newMessageCommands-send"], button[data-tid="sendMessageCommands-send"]'));
    if (send && (await send.isEnabled().catch(() => false))) await send.click({ timeout: 2000 });
    else await box.press('Enter');
    // Chat took the People pane's place: give the roster back.
    await clickInAnyFrame(page, (f) => f.locator(ROSTER_BUTTON));
    this.rosterClickedAt.set(page, Date.now());
    return true;
  }

  async leave(ctx: PlatformContext): Promise<void> {
    await clickInAnyFrame(ctx.page, (f) => f.locator(HANGUP));
  }
}

function ended(subCode: SubCode, reason: string): Observation {
  return { state: 'ended', end: { subCode, reason }, participants: null, count: null, speaking: [] };
}
