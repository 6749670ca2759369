/**
 * Google Calendar through the official clients: `google-auth-library`'s OAuth2Client for
 * consent, code exchange (PKCE), refresh and revoke, and `googleapis`' Calendar v3 for
 * calendarList, events.list (singleEvents, paging, syncToken), events.watch and channels.stop.
 * GOOGLE_API_ROOT_URL and GOOGLE_OAUTH_BASE_URL point both at a local fake in tests.
 */
import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library';
import { calendar as googleCalendar, type calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js';
import type { Config } from '../../lib/config.js';
import { meetingFromGoogleEvent } from './meeting-links.js';
import {
  AccessTokenRejected,
  CalendarAuthError,
  SyncCursorExpired,
  TransientCalendarError,
  type CalendarProvider,
  type ConnectedAccount,
  type EventChange,
  type PushChannel,
  type SelfResponse,
  type SyncWindow,
  type TokenGrant,
} from './model.js';

export const GOOGLE_SCOPES = ['https://www.googleapis.com/auth/calendar.readonly', 'https://www.googleapis.com/auth/userinfo.email'];
/** Any of these lets us read events. */
const CALENDAR_READ_SCOPES = ['calendar.readonly', 'calendar', 'calendar.events.readonly', 'calendar.events'].map((s) => `https://www.googleapis.com/auth/${s}`);
const PAGE_SIZE = 250;
/** OAuth error codes of the token endpoint that mean the grant is gone for good. */
const PERMANENT_OAUTH = new Set(['invalid_grant', 'invalid_client', 'deleted_client', 'unauthorized_client']);

export const GOOGLE_WEBHOOK_PATH = '/webhooks/google-calendar';

type GoogleConfig = Pick<Config, 'GOOGLE_CLIENT_ID' | 'GOOGLE_CLIENT_SECRET' | 'GOOGLE_API_ROOT_URL' | 'GOOGLE_OAUTH_BASE_URL'>;

export class GoogleCalendarProvider implements CalendarProvider {
  readonly name = 'google' as const;
  readonly #endpoints: { oauth2AuthBaseUrl: string; oauth2TokenUrl: string; oauth2RevokeUrl: string } | undefined;

  constructor(private readonly config: GoogleConfig & { GOOGLE_CLIENT_ID: string; GOOGLE_CLIENT_SECRET: string }) {
    const base = config.GOOGLE_OAUTH_BASE_URL?.replace(/\/+$/, '');
    this.#calendar = googleCalendar({ version: 'v3', rootUrl: config.GOOGLE_API_ROOT_URL });
    this.#endpoints = base ? { oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`, oauth2TokenUrl: `${base}/token`, oauth2RevokeUrl: `${base}/revoke` } : undefined;
  }

  #oauth(redirectUri?: string): OAuth2Client {
    return new OAuth2Client({
      clientId: this.config.GOOGLE_CLIENT_ID,
      clientSecret: this.config.GOOGLE_CLIENT_SECRET,
      redirectUri,
      ...(this.#endpoints ? { endpoints: this.#endpoints } : {}),
    });
  }

  /** The Calendar v3 client, built once (it is stateless); each call carries its own auth. */
  readonly #calendar: calendar_v3.Calendar;

  #auth(accessToken: string): OAuth2Client {
    const auth = this.#oauth();
    // No refresh token here: refreshing (and persisting what it returns) is the token store's job.
    auth.setCredentials({ access_token: accessToken });
    return auth;
  }

  authorizationUrl(p: { state: string; codeChallenge: string; redirectUri: string }): string {
    return this.#oauth(p.redirectUri).generateAuthUrl({
      access_type: 'offline',
      // Without consent Google sends a refresh token only on the very first grant.
      prompt: 'consent',
      include_granted_scopes: true,
      scope: GOOGLE_SCOPES,
      state: p.state,
      code_challenge: p.codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
    });
  }

  async exchangeCode(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<ConnectedAccount> {
    const { tokens } = await withGoogleErrors(() => this.#oauth(p.redirectUri).getToken({ code: p.code, codeVerifier: p.codeVerifier, redirect_uri: p.redirectUri }));
    if (!tokens.access_token) throw new CalendarAuthError('invalid_grant', 'Google returned no access token');
    if (!tokens.refresh_token) throw new CalendarAuthError('no_refresh_token', 'Google returned no refresh token (offline access was not granted)');
    const scopes = tokens.scope ?? '';
    if (!CALENDAR_READ_SCOPES.some((s) => scopes.split(' ').includes(s))) {
      throw new CalendarAuthError('scope_insufficient', 'calendar access was not granted on the consent screen');
    }
    const primary = await withGoogleErrors(() => this.#calendar.calendarList.get({ calendarId: 'primary', auth: this.#auth(tokens.access_token!) }));
    const id = primary.data.id;
    if (!id) throw new TransientCalendarError('Google returned no primary calendar');
    return {
      grant: { accessToken: tokens.access_token, expiresAt: expiry(tokens.expiry_date), refreshToken: tokens.refresh_token, scopes },
      accountId: id,
      email: id.toLowerCase(),
      timeZone: primary.data.timeZone ?? null,
    };
  }

  async refresh(refreshToken: string): Promise<TokenGrant> {
    const client = this.#oauth();
    client.setCredentials({ refresh_token: refreshToken });
    // `tokens` carries the raw response, including a new refresh token should Google ever rotate it.
    let rotated: string | undefined;
    client.on('tokens', (t) => (rotated = t.refresh_token ?? undefined));
    const { credentials } = await withGoogleErrors(() => client.refreshAccessToken());
    if (!credentials.access_token) throw new TransientCalendarError('Google refresh returned no access token');
    return {
      accessToken: credentials.access_token,
      expiresAt: expiry(credentials.expiry_date),
      ...(rotated && rotated !== refreshToken ? { refreshToken: rotated } : {}),
      ...(credentials.scope ? { scopes: credentials.scope } : {}),
    };
  }

  async revoke(refreshToken: string): Promise<void> {
    await withGoogleErrors(() => this.#oauth().revokeToken(refreshToken));
  }

  async listChanges(accessToken: string, p: { cursor?: string; window: SyncWindow; onPage(changes: EventChange[]): Promise<void> }): Promise<string> {
    const auth = this.#auth(accessToken);
    let pageToken: string | undefined;
    for (;;) {
      // Parameters other than the window stay the same for full and incremental listings; timeMin/timeMax cannot go with syncToken.
      const params: calendar_v3.Params$Resource$Events$List = {
        auth,
        calendarId: 'primary',
        singleEvents: true,
        maxResults: PAGE_SIZE,
        ...(p.cursor ? { syncToken: p.cursor } : { timeMin: p.window.start.toISOString(), timeMax: p.window.end.toISOString() }),
        ...(pageToken ? { pageToken } : {}),
      };
      const res = await withGoogleErrors(() => this.#calendar.events.list(params));
      await p.onPage((res.data.items ?? []).filter((e) => e.id).map((e) => toChange(e, res.data.timeZone)));
      // A short or empty page can still have a next one; the sync token comes only with the last.
      if (res.data.nextPageToken) {
        pageToken = res.data.nextPageToken;
        continue;
      }
      if (!res.data.nextSyncToken) throw new TransientCalendarError('Google ended the listing without a sync token');
      return res.data.nextSyncToken;
    }
  }

  async watch(accessToken: string, p: { secret: string; ttlSeconds: number; publicUrl: string }): Promise<PushChannel> {
    const id = crypto.randomUUID();
    const res = await withGoogleErrors(() =>
      this.#calendar.events.watch({
        auth: this.#auth(accessToken),
        calendarId: 'primary',
        requestBody: { id, type: 'web_hook', address: `${p.publicUrl}${GOOGLE_WEBHOOK_PATH}`, token: p.secret, params: { ttl: String(p.ttlSeconds) } },
      }),
    );
    if (!res.data.resourceId) throw new TransientCalendarError('Google returned a channel without a resourceId');
    // Google may grant less than asked; the returned expiration is the truth (ms since epoch, as a string).
    const granted = Number(res.data.expiration);
    return {
      id: res.data.id ?? id,
      resourceId: res.data.resourceId,
      expiresAt: new Date(Number.isFinite(granted) && granted > 0 ? granted : Date.now() + p.ttlSeconds * 1000),
    };
  }

  /** Google channels cannot be extended: a new one is created and the old one stopped. */
  async renew(): Promise<PushChannel | undefined> {
    return undefined;
  }

  async stop(accessToken: string, channel: PushChannel): Promise<void> {
    try {
      await withGoogleErrors(() => this.#calendar.channels.stop({ auth: this.#auth(accessToken), requestBody: { id: channel.id, resourceId: channel.resourceId ?? '' } }));
    } catch (err) {
      // Already stopped or expired: nothing left to stop.
      if (!(err instanceof NotFound)) throw err;
    }
  }
}

class NotFound extends Error {}

function expiry(ms: number | null | undefined): Date {
  return new Date(typeof ms === 'number' && ms > 0 ? ms : Date.now() + 3500 * 1000);
}

function mapResponse(status: SelfResponse | null | undefined | string): SelfResponse | null {
  switch (status) {
    case 'accepted':
    case 'tentative':
    case 'declined':
      return status;
    case 'needsAction':
      return 'needs_action';
    default:
      return null;
  }
}

/** A Google event (an instance, with singleEvents) → a change for the sync engine; `calendarZone` stands in when the event names none. */
export function toChange(e: calendar_v3.Schema$Event, calendarZone?: string | null): EventChange {
  const id = e.id ?? '';
  if (e.status === 'cancelled') return { kind: 'remove', externalId: id };
  const allDay = Boolean(e.start?.date && !e.start?.dateTime);
  const startAt = parseGoogleTime(e.start);
  const endAt = parseGoogleTime(e.end) ?? startAt;
  if (!startAt || !endAt) return { kind: 'remove', externalId: id };
  const self = (e.attendees ?? []).find((a) => a.self);
  const isOrganizer = e.organizer?.self === true;
  return {
    kind: 'upsert',
    event: {
      externalId: id,
      icalUid: e.iCalUID ?? null,
      seriesId: e.recurringEventId ?? null,
      status: e.status === 'tentative' ? 'tentative' : 'confirmed',
      title: e.summary ?? '',
      startAt,
      endAt,
      timeZone: e.start?.timeZone ?? calendarZone ?? null,
      isAllDay: allDay,
      organizerEmail: e.organizer?.email?.toLowerCase() ?? null,
      isOrganizer,
      selfResponse: mapResponse(self?.responseStatus) ?? (isOrganizer ? 'organizer' : null),
      attendees: (e.attendees ?? [])
        .filter((a) => a.email && !a.resource)
        .map((a) => ({ email: a.email!.toLowerCase(), response: mapResponse(a.responseStatus) })),
      meeting: meetingFromGoogleEvent(e),
      providerUpdatedAt: e.updated ? new Date(e.updated) : null,
    },
  };
}

/** `{dateTime: RFC 3339 with offset}` or `{date}` (all-day: midnight UTC of that date, for ordering only). */
function parseGoogleTime(t: calendar_v3.Schema$EventDateTime | undefined): Date | null {
  const raw = t?.dateTime ?? (t?.date ? `${t.date}T00:00:00Z` : undefined);
  if (!raw) return null;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? null : d;
}

interface GoogleErrorShape {
  status?: number;
  code?: unknown;
  message?: string;
  response?: { status?: number; headers?: Headers | Record<string, string>; data?: unknown };
}

/** Turns gaxios errors into the engine's failure values (research §1.5: test `status`, not `code`). */
async function withGoogleErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (raw) {
    throw classifyGoogleError(raw);
  }
}

export function classifyGoogleError(raw: unknown): Error {
  const err = raw as GoogleErrorShape;
  const status = err?.response?.status ?? err?.status;
  const data = err?.response?.data as { error?: unknown; error_description?: string } | undefined;
  if (typeof status !== 'number') return new TransientCalendarError(`Google unreachable: ${(raw as Error)?.message ?? String(raw)}`);
  // The token endpoint: {"error":"invalid_grant","error_description":"Token has been expired or revoked."}
  if (typeof data?.error === 'string') {
    if (PERMANENT_OAUTH.has(data.error)) return new CalendarAuthError(data.error, data.error_description ?? data.error);
    if (status >= 500 || status === 429) return new TransientCalendarError(`Google OAuth ${status} ${data.error}`);
    return new CalendarAuthError(data.error, data.error_description ?? data.error);
  }
  const apiError = (data?.error ?? {}) as { errors?: { reason?: string }[]; status?: string; message?: string; details?: { reason?: string }[] };
  const reasons = [...(apiError.errors ?? []).map((e) => e.reason), ...(apiError.details ?? []).map((d) => d.reason)].filter(Boolean);
  const message = apiError.message ?? err.message ?? `HTTP ${status}`;
  if (status === 410) return new SyncCursorExpired(message);
  if (status === 404) return new NotFound(message);
  if (status === 401) return new AccessTokenRejected(`Google refused the access token: ${message}`);
  if (status === 403 && reasons.some((r) => r === 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' || r === 'insufficientPermissions')) {
    return new CalendarAuthError('scope_insufficient', message);
  }
  const retryAfter = headerValue(err.response?.headers, 'retry-after');
  return new TransientCalendarError(`Google ${status}: ${message}`, retryAfter ? Number(retryAfter) || undefined : undefined);
}

function headerValue(headers: Headers | Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string>)[name];
}

export { NotFound as GoogleNotFound };
