/**
 * Zoom through the official Meeting SDK for Web (Client View, `ZoomMtg`) instead of Zoom's
 * web client — used when ZOOM_SDK_KEY/ZOOM_SDK_SECRET are set. The bot opens a page served
 * by this process (page-server.ts); the adapter computes the SDK signature here and hands
 * it to the page's bridge (bridge.ts) through page.evaluate, then reads the state the bridge
 * builds from the SDK's events. research/platform-mechanics.md §3.3.
 *
 * Zoom's terms: the SDK's README says the Meeting SDK "is reserved for human use cases and
 * does not support bots or AI notetakers" (pointing to RTMS instead), and since March 2026
 * apps joining meetings outside their own account need a ZAK or OBF token. Operators enabling
 * this path are responsible for complying with Zoom's terms.
 */
import type { Page } from 'playwright-core';
import type { Logger } from '../../../lib/log.js';
import type { MeetingRef } from '../../../lib/meeting-url.js';
import type { JoinOutcome, Observation, PlatformAdapter, PlatformContext, SeenParticipant } from '../adapter.js';
import { joinErrorMeaning, leaveReasonMeaning } from './outcomes.js';
import { ZoomSdkPageServer, type SdkAssets } from './page-server.js';
import { DEFAULT_SIGNATURE_TTL_S, meetingSdkSignature, SignatureError } from './signature.js';

/** Tokens that attribute the bot's join to a Zoom user; Zoom accepts one or the other, not both. */
export interface JoinTokens {
  /** A user's Zoom Access Key: the bot joins as that user. */
  zak?: string;
  /** An on-behalf-of token: the bot joins on behalf of a user who is already in the meeting. */
  obfToken?: string;
}

export interface ZoomSdkAdapterOptions {
  /** ZOOM_SDK_KEY. */
  sdkKey: string;
  /** ZOOM_SDK_SECRET. */
  sdkSecret: string;
  /** Where the SDK's scripts come from (tests serve a stand-in); the installed @zoom/meetingsdk by default. */
  assets?: SdkAssets;
  /** Lifetime of each join signature (30 min – 48 h). */
  signatureTtlSeconds?: number;
  /** How long the page waits before joining again after error 1 (general) and 3008 (not started); Zoom rate-limits join to once per 10 s. */
  joinRetryMs?: { general: number; notStarted: number };
  /** Join tokens for a bot, when the caller has them. */
  joinTokens?: (ctx: PlatformContext) => JoinTokens | undefined | Promise<JoinTokens | undefined>;
  log?: Logger;
}

/** The bridge's state as the page exposes it (`window.__notulaZoomState`). */
export interface BridgeState {
  phase: 'loading' | 'ready' | 'joining' | 'waiting_for_host' | 'waiting_room' | 'in_call' | 'reconnecting' | 'ended' | 'failed';
  meetingStatus: number | null;
  joinSpeed: number[];
  everInCall: boolean;
  error: { where: string; code: number; message: string; final: boolean } | null;
  end: { reasonCode: number | null; reason: string } | null;
  selfId: number | string | null;
  participants: Record<string, { userId: number | string; name: string; isHost: boolean }>;
  speakers: { userId: number | string; name: string }[];
  joinAttempts: number;
  isolated: boolean;
  notes: string[];
}

const POLL_MS = 250;
const DEFAULT_JOIN_RETRY_MS = { general: 10_000, notStarted: 15_000 };

export class ZoomSdkAdapter implements PlatformAdapter {
  readonly platform = 'zoom' as const;
  readonly pages: ZoomSdkPageServer;

  constructor(private readonly opts: ZoomSdkAdapterOptions) {
    this.pages = new ZoomSdkPageServer({ ...(opts.assets ? { assets: opts.assets } : {}), ...(opts.log ? { log: opts.log } : {}) });
  }

  /** The local SDK page (starts the page server on first use). BOT_HOST_OVERRIDES never applies to it. */
  navigationUrl(_meeting: MeetingRef): Promise<string> {
    return this.pages.meetingPageUrl();
  }

  async join(ctx: PlatformContext): Promise<JoinOutcome> {
    const { page, meeting, signal } = ctx;
    const loaded = await this.waitForState(page, signal, (s) => s.phase !== 'loading');
    if (!loaded) return stopped();
    if (loaded.phase === 'failed') return failure(loaded);

    const tokens = (await this.opts.joinTokens?.(ctx)) ?? {};
    if (tokens.zak && tokens.obfToken) {
      return { ok: false, subCode: 'sign_in_required', reason: 'a ZAK and an OBF token cannot be used together; Zoom accepts one of them', retry: false };
    }
    let signature: string;
    try {
      signature = await meetingSdkSignature({
        sdkKey: this.opts.sdkKey,
        sdkSecret: this.opts.sdkSecret,
        meetingNumber: meeting.meetingId,
        ttlSeconds: this.opts.signatureTtlSeconds ?? DEFAULT_SIGNATURE_TTL_S,
      });
    } catch (err) {
      if (err instanceof SignatureError) return { ok: false, subCode: 'invalid_meeting_url', reason: err.message, retry: false };
      throw err;
    }
    const host = safeHost(meeting.url);
    const args = {
      signature,
      meetingNumber: meeting.meetingId,
      // Zoom links carry the passcode (plain or encoded, `pwd=…`); the SDK takes either.
      passWord: meeting.passcode ?? '',
      userName: ctx.botName,
      ...(meeting.zoomToken ? { tk: meeting.zoomToken } : {}),
      ...(tokens.zak ? { zak: tokens.zak } : {}),
      ...(tokens.obfToken ? { obfToken: tokens.obfToken } : {}),
      // ZoomGov is its own cloud.
      ...(host?.endsWith('zoomgov.com') ? { webEndpoint: 'www.zoomgov.com' } : {}),
      retryMs: this.opts.joinRetryMs ?? DEFAULT_JOIN_RETRY_MS,
    };
    await page.evaluate((a) => (window as unknown as { __notulaZoom: { start(a: unknown): void } }).__notulaZoom.start(a), args);
    ctx.log.info({ meetingNumber: meeting.meetingId, withZak: Boolean(tokens.zak), withObf: Boolean(tokens.obfToken) }, 'Meeting SDK join requested');

    // Wait for the SDK's answer: the call, a waiting room (or waiting for the host), or an error.
    const answered = await this.waitForState(page, signal, (s) => !['ready', 'joining'].includes(s.phase));
    if (!answered) return stopped();
    if (answered.phase === 'failed' || answered.phase === 'ended') {
      const end = endOf(answered);
      if (answered.phase === 'failed') return failure(answered);
      return { ok: false, subCode: end?.subCode ?? 'denied_entry', reason: end?.reason ?? 'the Meeting SDK left the meeting before the bot was admitted', retry: false };
    }
    return { ok: true };
  }

  async observe(ctx: PlatformContext): Promise<Observation> {
    const { page } = ctx;
    const origin = await this.pages.origin();
    if (!page.url().startsWith(`${origin}/`)) {
      return { state: 'ended', end: { subCode: 'meeting_ended', reason: `the page left the Meeting SDK page (${safeHost(page.url()) ?? page.url()})` }, participants: null, count: null, speaking: [] };
    }
    const s = await readState(page);
    if (!s) return { state: 'unknown', participants: null, count: null, speaking: [] };
    switch (s.phase) {
      case 'in_call':
        return { state: 'in_call', participants: participantsOf(s, ctx.botName), count: null, speaking: s.speakers.map((p) => p.name).filter(Boolean) };
      case 'waiting_room':
      case 'waiting_for_host':
        return { state: 'waiting_room', participants: null, count: null, speaking: [] };
      case 'ended':
      case 'failed':
        return { state: 'ended', end: endOf(s), participants: null, count: null, speaking: [] };
      default:
        return { state: 'joining', participants: null, count: null, speaking: [] };
    }
  }

  async dismissInCallDialogs(_ctx: PlatformContext): Promise<void> {
    // The bridge turns the SDK's dialogs off through init (no preview, no invite, no recording prompts).
  }

  async sendChatMessage(ctx: PlatformContext, text: string): Promise<boolean> {
    return ctx.page.evaluate((t) => (window as unknown as { __notulaZoom: { chat(t: string): Promise<boolean> } }).__notulaZoom.chat(t), text).catch(() => false);
  }

  async leave(ctx: PlatformContext): Promise<void> {
    await ctx.page.evaluate(() => (window as unknown as { __notulaZoom?: { leave(): Promise<boolean> } }).__notulaZoom?.leave()).catch(() => undefined);
  }

  /** Stops the page server (after the bots of this process are gone). */
  close(): Promise<void> {
    return this.pages.close();
  }

  private async waitForState(page: Page, signal: AbortSignal, done: (s: BridgeState) => boolean): Promise<BridgeState | undefined> {
    while (!signal.aborted) {
      const s = await readState(page);
      if (s && done(s)) return s;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return undefined;
  }
}

/** The bridge's state, or null while the page has none (navigating, not our page). */
export async function readState(page: Page): Promise<BridgeState | null> {
  return page.evaluate(() => ((window as unknown as { __notulaZoomState?: unknown }).__notulaZoomState ?? null) as never).catch(() => null);
}

function participantsOf(s: BridgeState, botName: string): SeenParticipant[] {
  const people = Object.values(s.participants);
  // Until the SDK names the bot's own user id, the bot is the participant with its name.
  const selfId = s.selfId ?? people.find((p) => p.name === botName)?.userId ?? null;
  return people.map((p) => ({ platformId: String(p.userId), name: p.name || `Zoom user ${p.userId}`, isSelf: selfId !== null && String(p.userId) === String(selfId) }));
}

/** Why the bridge's state says the bot's stay ended, when it says. */
function endOf(s: BridgeState): Observation['end'] {
  if (s.error?.final) {
    const m = joinErrorMeaning(s.error.code, s.error.message);
    return { subCode: m.subCode, reason: `${m.meaning} (Zoom ${s.error.where} error ${s.error.code}: ${s.error.message})` };
  }
  const byReason = leaveReasonMeaning(s.end?.reasonCode);
  if (byReason) return { subCode: byReason.subCode, reason: byReason.meaning };
  // Disconnected (status 3) without a reason the SDK names: the meeting is gone for the bot.
  if (s.everInCall) return { subCode: 'meeting_ended', reason: 'the Meeting SDK reports the meeting disconnected' };
  return undefined;
}

function failure(s: BridgeState): JoinOutcome {
  const code = s.error?.code ?? -1;
  const message = s.error?.message ?? 'unknown error';
  if (s.error?.where === 'load' || s.error?.where === 'prepare') {
    return { ok: false, subCode: 'join_timeout', reason: `the Meeting SDK could not start: ${message}`, retry: true };
  }
  const m = joinErrorMeaning(code, message);
  return { ok: false, subCode: m.subCode, reason: `${m.meaning} (Zoom ${s.error?.where ?? 'join'} error ${code}: ${message})`, retry: m.retry };
}

const stopped = (): JoinOutcome => ({ ok: false, subCode: 'join_timeout', reason: 'stopped before the Meeting SDK answered the join', retry: true });

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
