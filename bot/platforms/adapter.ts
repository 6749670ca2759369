/**
 * The port every meeting platform implements. An adapter knows one platform's pages: how to
 * walk its join flow, how to read what the page shows (lobby, in call, an end screen,
 * participants, who is speaking), and how to leave. The runner (bot/run-bot.ts) owns time,
 * statuses and automatic leave; adapters only look at pages and click.
 */
import type { Page } from 'playwright-core';
import type { Logger } from '../../lib/log.js';
import type { MeetingRef, Platform } from '../../lib/meeting-url.js';
import type { HostOverrides } from '../host-overrides.js';
import type { SubCode } from '../status.js';

export interface PlatformContext {
  page: Page;
  meeting: MeetingRef;
  botName: string;
  overrides: HostOverrides;
  log: Logger;
  /** Aborted when the bot must stop (leave requested, timeout, shutdown). */
  signal: AbortSignal;
}

/** Expected failures are values: `retry` says whether trying again could help. */
export type JoinOutcome = { ok: true } | { ok: false; subCode: SubCode; reason: string; retry: boolean };

export interface SeenParticipant {
  /** The platform's id for the participant, or the name when the page shows none. */
  platformId: string;
  name: string;
  isSelf: boolean;
}

export interface Observation {
  state: 'prejoin' | 'joining' | 'waiting_room' | 'in_call' | 'ended' | 'unknown';
  /** Why the page shows an end screen (state 'ended'). */
  end?: { subCode: SubCode; reason: string };
  /** Participants the page shows, the bot included (isSelf); null when the page shows none. */
  participants: SeenParticipant[] | null;
  /** Head count the page states (People button, avatar count), the bot included; null when absent. */
  count: number | null;
  /** Names of participants the page marks as speaking right now. */
  speaking: string[];
  /**
   * Where the page can timestamp changes (Meet's per-track levels): the speaking set at each
   * change since the previous observation, oldest first (epoch ms). `speaking` is the set now.
   */
  speakingAt?: { at: number; speaking: string[] }[];
}

export interface PlatformAdapter {
  readonly platform: Platform;
  /**
   * The URL the browser opens: the platform's real URL (BOT_HOST_OVERRIDES is applied by the
   * caller), or a page the bot process serves itself on 127.0.0.1 (the Zoom Meeting SDK), which
   * is why it may be async.
   */
  navigationUrl(meeting: MeetingRef): string | Promise<string>;
  /** Walks the pre-join flow until the join request is sent (or fails). */
  join(ctx: PlatformContext): Promise<JoinOutcome>;
  /** Reads the page once; cheap enough to call every few hundred milliseconds. */
  observe(ctx: PlatformContext): Promise<Observation>;
  /** Clicks away dialogs that appear in the call ("Got it", recording notices). */
  dismissInCallDialogs(ctx: PlatformContext): Promise<void>;
  /** Posts a chat message; false when the page offers no chat. */
  sendChatMessage(ctx: PlatformContext, text: string): Promise<boolean>;
  /** Leaves the call the way a person would (best effort). */
  leave(ctx: PlatformContext): Promise<void>;
}
