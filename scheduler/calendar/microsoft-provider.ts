/**
 * Outlook calendars through Microsoft Graph with the official `@microsoft/microsoft-graph-client`
 * (calendarView/delta with `Prefer: outlook.timezone="UTC"`, nextLink → deltaLink, `@removed`,
 * subscriptions with clientState, renewal and reauthorization). The identity platform's
 * authorize and token endpoints are plain OAuth 2.0 (authorization code + PKCE, refresh with
 * rotation): the Graph client does not do them, and MSAL keeps refresh tokens inside its own
 * cache, out of reach of the row-locked rotation the token store needs.
 * MICROSOFT_GRAPH_BASE_URL (https only: the client sends credentials only there) and
 * MICROSOFT_LOGIN_BASE_URL point both at a local fake in tests.
 */
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import type { Config } from '../../lib/config.js';
import { meetingFromGraphEvent } from './meeting-links.js';
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

export const MICROSOFT_SCOPES = ['offline_access', 'openid', 'email', 'https://graph.microsoft.com/Calendars.Read', 'https://graph.microsoft.com/User.Read'];
export const MICROSOFT_WEBHOOK_PATH = '/webhooks/microsoft-calendar';
export const MICROSOFT_LIFECYCLE_PATH = '/webhooks/microsoft-calendar/lifecycle';
const PAGE_SIZE = 100;
const PREFER = `outlook.timezone="UTC", odata.maxpagesize=${PAGE_SIZE}`;
/** Token-endpoint errors that mean the grant is gone (AADSTS70008/700082 expired, 50173 revoked, 65001 consent withdrawn …). */
const PERMANENT_OAUTH = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'interaction_required', 'consent_required']);

type MicrosoftConfig = Pick<Config, 'MICROSOFT_CLIENT_ID' | 'MICROSOFT_CLIENT_SECRET' | 'MICROSOFT_TENANT' | 'MICROSOFT_GRAPH_BASE_URL' | 'MICROSOFT_LOGIN_BASE_URL'>;

const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive(),
  scope: z.string().optional(),
});

const TokenError = z.object({ error: z.string(), error_description: z.string().optional(), error_codes: z.array(z.number()).optional() });

/** The fields of a Graph event this reads (delta returns the default property set). */
interface GraphEvent {
  id?: string;
  '@removed'?: { reason?: string };
  iCalUId?: string | null;
  seriesMasterId?: string | null;
  type?: string | null;
  subject?: string | null;
  isCancelled?: boolean | null;
  isAllDay?: boolean | null;
  isOrganizer?: boolean | null;
  showAs?: string | null;
  start?: { dateTime?: string; timeZone?: string } | null;
  end?: { dateTime?: string; timeZone?: string } | null;
  originalStartTimeZone?: string | null;
  lastModifiedDateTime?: string | null;
  organizer?: { emailAddress?: { address?: string | null } | null } | null;
  responseStatus?: { response?: string | null } | null;
  attendees?: { type?: string | null; status?: { response?: string | null } | null; emailAddress?: { address?: string | null } | null }[] | null;
  onlineMeeting?: { joinUrl?: string | null } | null;
  onlineMeetingUrl?: string | null;
  location?: { displayName?: string | null; locationUri?: string | null } | null;
  locations?: { displayName?: string | null; locationUri?: string | null }[] | null;
  body?: { content?: string | null } | null;
}

interface DeltaPage {
  value?: GraphEvent[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export class MicrosoftCalendarProvider implements CalendarProvider {
  readonly name = 'microsoft' as const;
  readonly #login: string;
  readonly #graphBase: string;
  readonly #graphHost: string;

  constructor(private readonly config: MicrosoftConfig & { MICROSOFT_CLIENT_ID: string; MICROSOFT_CLIENT_SECRET: string }) {
    this.#login = `${config.MICROSOFT_LOGIN_BASE_URL.replace(/\/+$/, '')}/${config.MICROSOFT_TENANT}/oauth2/v2.0`;
    this.#graphBase = config.MICROSOFT_GRAPH_BASE_URL.replace(/\/+$/, '');
    this.#graphHost = new URL(this.#graphBase).hostname;
  }

  #graph(accessToken: string): Client {
    return Client.init({
      authProvider: (done) => done(null, accessToken),
      baseUrl: `${this.#graphBase}/`,
      defaultVersion: 'v1.0',
      // The Graph client attaches the token only to hosts it knows; the configured one is ours.
      customHosts: new Set([this.#graphHost]),
    });
  }

  authorizationUrl(p: { state: string; codeChallenge: string; redirectUri: string }): string {
    const q = new URLSearchParams({
      client_id: this.config.MICROSOFT_CLIENT_ID,
      response_type: 'code',
      redirect_uri: p.redirectUri,
      response_mode: 'query',
      scope: MICROSOFT_SCOPES.join(' '),
      state: p.state,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
      prompt: 'select_account',
    });
    return `${this.#login}/authorize?${q}`;
  }

  async #token(form: Record<string, string>): Promise<TokenGrant> {
    let res: Response;
    try {
      res = await fetch(`${this.#login}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: this.config.MICROSOFT_CLIENT_ID, client_secret: this.config.MICROSOFT_CLIENT_SECRET, ...form }),
        signal: AbortSignal.timeout(20_000),
      });
    } catch (err) {
      throw new TransientCalendarError(`Microsoft identity platform unreachable: ${(err as Error).message}`);
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const e = TokenError.safeParse(body);
      if (e.success && PERMANENT_OAUTH.has(e.data.error)) throw new CalendarAuthError(e.data.error, (e.data.error_description ?? e.data.error).split('\r\n')[0]!.slice(0, 300));
      if (res.status >= 500 || res.status === 429) throw new TransientCalendarError(`Microsoft token endpoint ${res.status}`, Number(res.headers.get('retry-after')) || undefined);
      throw new CalendarAuthError(e.success ? e.data.error : `http_${res.status}`, e.success ? (e.data.error_description ?? e.data.error) : `token endpoint answered ${res.status}`);
    }
    const t = TokenResponse.safeParse(body);
    if (!t.success) throw new TransientCalendarError('Microsoft token endpoint returned an unexpected body');
    return {
      accessToken: t.data.access_token,
      expiresAt: new Date(Date.now() + t.data.expires_in * 1000),
      ...(t.data.refresh_token ? { refreshToken: t.data.refresh_token } : {}),
      ...(t.data.scope ? { scopes: t.data.scope } : {}),
    };
  }

  async exchangeCode(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<ConnectedAccount> {
    const grant = await this.#token({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.codeVerifier, scope: MICROSOFT_SCOPES.join(' ') });
    if (!grant.refreshToken) throw new CalendarAuthError('no_refresh_token', 'Microsoft returned no refresh token (offline_access was not granted)');
    const scopes = (grant.scopes ?? '').toLowerCase().split(' ');
    if (!scopes.some((s) => s.endsWith('calendars.read') || s.endsWith('calendars.readwrite'))) {
      throw new CalendarAuthError('scope_insufficient', 'calendar access (Calendars.Read) was not granted');
    }
    const me = (await withGraphErrors(() => this.#graph(grant.accessToken).api('/me').select(['id', 'mail', 'userPrincipalName']).get())) as { id?: string; mail?: string | null; userPrincipalName?: string | null };
    const email = me.mail ?? me.userPrincipalName;
    if (!me.id || !email) throw new TransientCalendarError('Microsoft Graph returned no user id or address');
    return { grant: { ...grant, refreshToken: grant.refreshToken }, accountId: me.id, email: email.toLowerCase(), timeZone: null };
  }

  refresh(refreshToken: string): Promise<TokenGrant> {
    return this.#token({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: MICROSOFT_SCOPES.join(' ') });
  }

  /** The v2 endpoint has no per-grant revocation (revokeSignInSessions would sign the user out everywhere): the grant is forgotten instead. */
  async revoke(): Promise<void> {}

  async listChanges(accessToken: string, p: { cursor?: string; window: SyncWindow; onPage(changes: EventChange[]): Promise<void> }): Promise<string> {
    const graph = this.#graph(accessToken);
    let page = (await withGraphErrors(() =>
      p.cursor
        ? graph.api(p.cursor).header('Prefer', PREFER).get()
        : graph.api('/me/calendarView/delta').query({ startDateTime: p.window.start.toISOString(), endDateTime: p.window.end.toISOString() }).header('Prefer', PREFER).get(),
    )) as DeltaPage;
    for (;;) {
      await p.onPage((page.value ?? []).filter((e) => e.id).map(toChange));
      const next = page['@odata.nextLink'];
      if (next) {
        page = (await withGraphErrors(() => graph.api(next).header('Prefer', PREFER).get())) as DeltaPage;
        continue;
      }
      const delta = page['@odata.deltaLink'];
      if (!delta) throw new TransientCalendarError('Graph ended the delta without a deltaLink');
      return delta;
    }
  }

  async watch(accessToken: string, p: { secret: string; ttlSeconds: number; publicUrl: string }): Promise<PushChannel> {
    const res = (await withGraphErrors(() =>
      this.#graph(accessToken)
        .api('/subscriptions')
        .post({
          changeType: 'created,updated,deleted',
          notificationUrl: `${p.publicUrl}${MICROSOFT_WEBHOOK_PATH}`,
          lifecycleNotificationUrl: `${p.publicUrl}${MICROSOFT_LIFECYCLE_PATH}`,
          resource: 'me/events',
          expirationDateTime: new Date(Date.now() + p.ttlSeconds * 1000).toISOString(),
          clientState: p.secret,
          latestSupportedTlsVersion: 'v1_2',
        }),
    )) as { id?: string; expirationDateTime?: string };
    if (!res.id || !res.expirationDateTime) throw new TransientCalendarError('Graph returned a subscription without id or expiration');
    return { id: res.id, resourceId: null, expiresAt: new Date(res.expirationDateTime) };
  }

  async renew(accessToken: string, channel: PushChannel, p: { ttlSeconds: number; reauthorize: boolean }): Promise<PushChannel | undefined> {
    const graph = this.#graph(accessToken);
    try {
      if (p.reauthorize) await withGraphErrors(() => graph.api(`/subscriptions/${encodeURIComponent(channel.id)}/reauthorize`).post({}));
      const res = (await withGraphErrors(() =>
        graph.api(`/subscriptions/${encodeURIComponent(channel.id)}`).patch({ expirationDateTime: new Date(Date.now() + p.ttlSeconds * 1000).toISOString() }),
      )) as { expirationDateTime?: string };
      return { ...channel, expiresAt: res.expirationDateTime ? new Date(res.expirationDateTime) : new Date(Date.now() + p.ttlSeconds * 1000) };
    } catch (err) {
      if (err instanceof GraphNotFound) return undefined;
      throw err;
    }
  }

  async stop(accessToken: string, channel: PushChannel): Promise<void> {
    try {
      await withGraphErrors(() => this.#graph(accessToken).api(`/subscriptions/${encodeURIComponent(channel.id)}`).delete());
    } catch (err) {
      if (!(err instanceof GraphNotFound)) throw err;
    }
  }
}

export class GraphNotFound extends Error {}

function mapResponse(r: string | null | undefined): SelfResponse | null {
  switch (r) {
    case 'organizer':
      return 'organizer';
    case 'accepted':
      return 'accepted';
    case 'tentativelyAccepted':
      return 'tentative';
    case 'declined':
      return 'declined';
    case 'notResponded':
    case 'none':
      return 'needs_action';
    default:
      return null;
  }
}

/**
 * Graph time `{dateTime:"2025-03-03T09:00:00.0000000", timeZone:"UTC"}`: with the Prefer
 * header the zone is UTC and the time naive; an explicit offset is honoured too.
 */
function parseGraphTime(t: GraphEvent['start']): Date | null {
  const raw = t?.dateTime;
  if (!raw) return null;
  const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(raw);
  if (!hasOffset && t?.timeZone && t.timeZone.toUpperCase() !== 'UTC') return null;
  const d = new Date(hasOffset ? raw : `${raw.replace(/(\.\d{3})\d+$/, '$1')}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function toChange(e: GraphEvent): EventChange {
  const id = e.id ?? '';
  if (e['@removed'] || e.isCancelled) return { kind: 'remove', externalId: id };
  const startAt = parseGraphTime(e.start);
  const endAt = parseGraphTime(e.end) ?? startAt;
  if (!startAt || !endAt) return { kind: 'remove', externalId: id };
  const isOrganizer = e.isOrganizer === true;
  return {
    kind: 'upsert',
    event: {
      externalId: id,
      icalUid: e.iCalUId ?? null,
      seriesId: e.seriesMasterId ?? null,
      status: e.showAs === 'tentative' ? 'tentative' : 'confirmed',
      title: e.subject ?? '',
      startAt,
      endAt,
      timeZone: e.originalStartTimeZone ?? e.start?.timeZone ?? null,
      isAllDay: e.isAllDay === true,
      organizerEmail: e.organizer?.emailAddress?.address?.toLowerCase() ?? null,
      isOrganizer,
      selfResponse: mapResponse(e.responseStatus?.response) ?? (isOrganizer ? 'organizer' : null),
      attendees: (e.attendees ?? [])
        .filter((a) => a.emailAddress?.address && a.type !== 'resource')
        .map((a) => ({ email: a.emailAddress!.address!.toLowerCase(), response: mapResponse(a.status?.response) })),
      meeting: meetingFromGraphEvent(e),
      providerUpdatedAt: e.lastModifiedDateTime ? new Date(e.lastModifiedDateTime) : null,
    },
  };
}

async function withGraphErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (raw) {
    throw classifyGraphError(raw);
  }
}

export function classifyGraphError(raw: unknown): Error {
  if (!(raw instanceof GraphError)) return new TransientCalendarError(`Microsoft Graph unreachable: ${(raw as Error)?.message ?? String(raw)}`);
  const { statusCode: status, code } = raw;
  const message = `${code ?? 'error'}: ${raw.message}`.slice(0, 300);
  if (status === 410 || code === 'SyncStateNotFound' || code === 'syncStateNotFound' || code === 'SyncStateInvalid') return new SyncCursorExpired(message);
  if (status === 404) return new GraphNotFound(message);
  if (status === 401) return new AccessTokenRejected(`Graph refused the access token (${message})`);
  if (status === 403 && code === 'ErrorAccessDenied') return new CalendarAuthError('access_denied', message);
  if (/mailbox is either inactive, soft-deleted, or is hosted on-premise/i.test(raw.message) || code === 'MailboxNotEnabledForRESTAPI') {
    return new CalendarAuthError('mailbox_unavailable', message);
  }
  return new TransientCalendarError(`Graph ${status}: ${message}`);
}
