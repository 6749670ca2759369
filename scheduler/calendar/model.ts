/**
 * The provider-neutral shape of calendar sync: what a provider adapter (Google, Microsoft)
 * hands the sync engine, the port it implements, and the failures it reports as values the
 * engine decides on (disconnect, full resync, retry later).
 */
import type { MeetingRef } from '../../lib/meeting-url.js';

export type ProviderName = 'google' | 'microsoft';
export const PROVIDERS: readonly ProviderName[] = ['google', 'microsoft'];

/** The calendar owner's answer to an event. */
export type SelfResponse = 'accepted' | 'tentative' | 'declined' | 'needs_action' | 'organizer';

export interface Attendee {
  email: string;
  response: SelfResponse | null;
}

/** One timed or all-day event (an instance, for series), as the provider describes it. */
export interface SyncedEvent {
  externalId: string;
  icalUid: string | null;
  seriesId: string | null;
  status: 'confirmed' | 'tentative' | 'cancelled';
  title: string;
  startAt: Date;
  endAt: Date;
  /** The event's own zone (IANA for Google, Graph's name for Microsoft). */
  timeZone: string | null;
  isAllDay: boolean;
  organizerEmail: string | null;
  isOrganizer: boolean;
  selfResponse: SelfResponse | null;
  attendees: Attendee[];
  /** The first meeting link found (research §3 order), normalised; null when none. */
  meeting: MeetingRef | null;
  providerUpdatedAt: Date | null;
}

/** A change from a full or incremental listing: an event to store, or one that is gone. */
export type EventChange = { kind: 'upsert'; event: SyncedEvent } | { kind: 'remove'; externalId: string };

export interface SyncWindow {
  start: Date;
  end: Date;
}

/** OAuth tokens from a code exchange or a refresh. */
export interface TokenGrant {
  accessToken: string;
  expiresAt: Date;
  /** Present when the provider issued one (always on the first grant; Microsoft rotates it on every refresh). */
  refreshToken?: string;
  /** Space-separated scopes granted. */
  scopes?: string;
}

export interface ConnectedAccount {
  grant: TokenGrant & { refreshToken: string };
  accountId: string;
  email: string;
  timeZone: string | null;
}

export interface PushChannel {
  id: string;
  resourceId: string | null;
  expiresAt: Date;
}

/** What one provider adapter does; each call gets a fresh access token from the caller. */
export interface CalendarProvider {
  readonly name: ProviderName;
  /** The consent page URL (offline access, PKCE S256). */
  authorizationUrl(p: { state: string; codeChallenge: string; redirectUri: string }): string;
  /** Trades the callback's code for tokens and reads who the account is. */
  exchangeCode(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<ConnectedAccount>;
  refresh(refreshToken: string): Promise<TokenGrant>;
  /** Best effort: tells the provider to forget the grant. */
  revoke(refreshToken: string): Promise<void>;
  /**
   * Lists changes: every event of the window when `cursor` is undefined (a full sync),
   * otherwise what changed since the cursor. Pages are handed to `onPage` as they arrive;
   * resolves with the cursor for the next increment. Throws SyncCursorExpired (410).
   */
  listChanges(accessToken: string, p: { cursor?: string; window: SyncWindow; onPage(changes: EventChange[]): Promise<void> }): Promise<string>;
  /** Creates a push channel (Google watch channel, Graph subscription) for the calendar. */
  watch(accessToken: string, p: { secret: string; ttlSeconds: number; publicUrl: string }): Promise<PushChannel>;
  /** Extends a channel in place; returns undefined when the provider cannot (Google) or it is gone. */
  renew(accessToken: string, channel: PushChannel, p: { ttlSeconds: number; reauthorize: boolean }): Promise<PushChannel | undefined>;
  stop(accessToken: string, channel: PushChannel): Promise<void>;
}

/**
 * A permanent authorization failure: the grant is revoked or expired, the client is deleted,
 * or calendar access was withdrawn. The calendar becomes `disconnected`.
 */
export class CalendarAuthError extends Error {
  override name = 'CalendarAuthError';
  constructor(
    /** A short machine reason: invalid_grant, invalid_client, scope_insufficient, access_denied, … */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The sync cursor is no longer valid (HTTP 410): wipe and sync in full. */
export class SyncCursorExpired extends Error {
  override name = 'SyncCursorExpired';
}

/** A failure worth retrying later (network, 429, 5xx, a 401 right after a refresh). */
export class TransientCalendarError extends Error {
  override name = 'TransientCalendarError';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The provider refused the access token (401): forget it, so the retry refreshes. */
export class AccessTokenRejected extends TransientCalendarError {
  override name = 'AccessTokenRejected';
}
